// The admin's periodic-task form (templates/admin/djcelery/change_periodictask_form.html):
// django-celery-beat's inline script, moved here for the Content Security Policy.
"use strict";
(function () {
  const $ = window.django && window.django.jQuery;
  const script = document.getElementById("periodic-task-overrides");
  const data = document.getElementById("readable-crontabs");
  if (!$ || !script || !data) return;
  const readableCrontabs = JSON.parse(data.textContent);
  const originalHelp = script.dataset.crontabHelp || "";

  $(".field-crontab_translation").hide();
  $(".field-crontab").on("change", function () {
    const help = $(".field-crontab .help");
    help.text(originalHelp);
    const translation = readableCrontabs[$("#id_crontab").val()];
    if (translation) {
      help.append(document.createElement("br"), document.createTextNode("Translation: " + translation));
    }
  });
})();
