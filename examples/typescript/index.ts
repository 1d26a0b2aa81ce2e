// MTA-STS for two mail domains, one per MtaStsDomain, from the generated `@pulumi/mta-sts` SDK.
// Credentials come from the environment (CLOUDFLARE_API_TOKEN, GITHUB_TOKEN, GITHUB_OWNER);
// the Netlify token is a secret of this project: `pulumi config set --secret netlifyToken <token>`.
import * as pulumi from "@pulumi/pulumi";
import * as mtasts from "@pulumi/mta-sts";

const config = new pulumi.Config();
const domain = config.require("domain");
const secondDomain = config.require("secondDomain");

// Start in testing mode and read the TLS reports before enforce (RFC 8461 §5).
const first = new mtasts.MtaStsDomain("first", {
    domain: domain,
    mode: "testing",
    tlsRpt: [`mailto:tls-reports@${domain}`],
    hosting: "netlify",
    netlifyToken: config.requireSecret("netlifyToken"),
});

const second = new mtasts.MtaStsDomain("second", {
    domain: secondDomain,
    mode: "enforce",
    maxAge: 1209600,
    mx: [`mx1.${secondDomain}`, `mx2.${secondDomain}`],
    tlsRpt: [`mailto:tls-reports@${secondDomain}`],
    hosting: "github-pages",
    readinessTimeout: 900,
});

export const firstPolicyUrl = first.policyUrl;
export const firstPolicyId = first.policyId;
export const firstDnsRecords = first.dnsRecords;
export const secondPolicyUrl = second.policyUrl;
export const secondRepositoryUrl = second.repositoryUrl;
export const secondPolicyText = second.policyText;
