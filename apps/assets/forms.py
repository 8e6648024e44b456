from django import forms

from apps.assets.models import BrandFolder
from apps.assets.services import FolderDeleteMode


class TenantFolderChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: BrandFolder) -> str:
        return obj.name


class AssetEditForm(forms.Form):
    name = forms.CharField(max_length=200, label="Name")
    alt_text = forms.CharField(
        max_length=500,
        required=False,
        label="Alt text",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Describes the image for people who cannot see it.",
    )
    tags = forms.CharField(
        max_length=1000, required=False, help_text="Separated by commas, e.g. dessert, summer menu"
    )
    folder = TenantFolderChoiceField(
        queryset=BrandFolder.objects.none(), required=False, empty_label="— Top level —"
    )

    def __init__(self, *args: object, folders: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["folder"].queryset = folders  # type: ignore[attr-defined]


class FolderDeleteForm(forms.Form):
    mode = forms.ChoiceField(
        choices=[
            (FolderDeleteMode.MOVE_TO_PARENT, "Move its images and sub-folders up one level"),
            (FolderDeleteMode.DELETE_CONTENTS, "Delete its images and sub-folders too"),
        ],
        widget=forms.RadioSelect,
        initial=FolderDeleteMode.MOVE_TO_PARENT,
        label="What happens to what is inside?",
    )
