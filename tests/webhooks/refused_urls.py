"""Every spelling of a non-public target the SSRF guard must see through (issue 13, finding 7),
shared by the form, API and sending tests. ``{port}`` is the test receiver's port, so a guard
that let one through would reach a real server."""

# Each: (URL template, what it is).
REFUSED_URLS = [
    # IPv4 as inet_aton and browsers read it
    ("https://0x7f000001:{port}/hooks", "127.0.0.1 in hex"),
    ("https://2130706433:{port}/hooks", "127.0.0.1 as one integer"),
    ("https://127.1:{port}/hooks", "127.0.0.1 short dotted"),
    ("https://0177.0.0.1:{port}/hooks", "127.0.0.1 in octal"),
    ("https://0x7f.1:{port}/hooks", "127.0.0.1 hex and short"),
    ("https://127.0.0.1.:{port}/hooks", "127.0.0.1 with a trailing dot"),
    ("https://0:{port}/hooks", "0.0.0.0, this machine"),
    (
        "https://\uff11\uff12\uff17.\uff10.\uff10.\uff11:{port}/hooks",
        "127.0.0.1 in full-width digits",
    ),
    ("https://0xa9fea9fe/latest/meta-data/", "169.254.169.254 in hex"),
    # special names
    ("https://localhost:{port}/hooks", "localhost"),
    ("https://LOCALHOST.:{port}/hooks", "localhost, upper case, trailing dot"),
    ("https://hooks.localhost:{port}/hooks", "*.localhost"),
    ("https://metadata.google.internal/computeMetadata/v1/", "*.internal"),
    ("https://printer.local/hooks", "*.local (mDNS)"),
    ("https://redis:6379/hooks", "a name without a domain (cluster search path)"),
    # IPv6 carrying an IPv4 address
    ("https://[::ffff:127.0.0.1]:{port}/hooks", "IPv4-mapped loopback"),
    ("https://[::ffff:a9fe:a9fe]/latest/meta-data/", "IPv4-mapped metadata"),
    ("https://[::127.0.0.1]:{port}/hooks", "IPv4-compatible loopback"),
    ("https://[64:ff9b::a9fe:a9fe]/latest/meta-data/", "NAT64 metadata"),
    ("https://[64:ff9b::7f00:1]:{port}/hooks", "NAT64 loopback"),
    ("https://[64:ff9b:1::a00:5]/hooks", "local-use NAT64"),
    ("https://[2002:7f00:1::]:{port}/hooks", "6to4 loopback"),
    ("https://[2002:a9fe:a9fe::1]/latest/meta-data/", "6to4 metadata"),
    ("https://[2001:0:4136:e378:8000:63bf:80ff:fffe]:{port}/hooks", "Teredo, client 127.0.0.1"),
    # plain forms, and the ranges is_global misses on some Python versions
    ("https://[::1]:{port}/hooks", "IPv6 loopback"),
    ("https://169.254.169.254/latest/meta-data/", "link-local metadata"),
    ("https://10.0.0.5/hooks", "private"),
    ("https://100.64.0.1/hooks", "CGNAT"),
    ("https://198.18.0.1/hooks", "benchmarking"),
    ("https://224.0.0.1/hooks", "multicast"),
    ("https://240.0.0.1/hooks", "reserved"),
    ("https://[fd00:ec2::254]/latest/meta-data/", "unique local (AWS metadata over IPv6)"),
    ("https://[fe80::1]/hooks", "IPv6 link-local"),
]

# Public targets in unusual spellings: still accepted.
PUBLIC_URLS = [
    "https://hooks.example.com/x",
    "https://93.184.215.14/x",
    "https://[2606:4700:4700::1111]/x",
    "https://[64:ff9b::5db8:d70e]/x",  # NAT64 of 93.184.215.14
    "https://m\u00fcnchen.example/x",
]


def refused_url(template: str, port: int | str = 9) -> str:
    return template.format(port=port)
