"""Two mail domains in one stack: one served by GitHub Pages, one by Netlify, each in its own
Cloudflare zone, with providers chosen here rather than the default ones.

Credentials come from the providers' usual sources (CLOUDFLARE_API_TOKEN, GITHUB_TOKEN and
NETLIFY_AUTH_TOKEN in the environment, or `pulumi config set --secret`).
"""

import pulumi
import pulumi_cloudflare as cloudflare
import pulumi_github as github
import pulumi_mta_sts as mta_sts

# One Cloudflare account and one GitHub owner for both domains here; a provider per customer
# works the same way.
providers = [cloudflare.Provider("cloudflare"), github.Provider("github", owner="example-owner")]

shop = mta_sts.MtaStsDomain(
    "example-com",
    mta_sts.MtaStsDomainArgs(
        domain="example.com",
        mode="testing",
        mx=["mail.example.com"],
        tls_rpt=["mailto:tls-reports@example.com"],
        hosting="github-pages",
    ),
    opts=pulumi.ResourceOptions(providers=providers),
)
# A plain dict with the same snake_case keys is the same arguments.
blog = mta_sts.MtaStsDomain(
    "example-org",
    {
        "domain": "example.org",
        "mode": "testing",
        "mx": ["mail.protonmail.ch", "mailsec.protonmail.ch"],
        "tls_rpt": ["mailto:tls-reports@example.org"],
        "hosting": "netlify",
    },
    opts=pulumi.ResourceOptions(providers=providers),
)

for key, domain in {"exampleCom": shop, "exampleOrg": blog}.items():
    pulumi.export(f"{key}PolicyUrl", domain.policy_url)
    pulumi.export(f"{key}PolicyId", domain.policy_id)
    pulumi.export(f"{key}RepositoryUrl", domain.repository_url)
