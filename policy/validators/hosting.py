"""The repository and the hosts: Pages' .nojekyll, a protected repository, full record names."""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs, StackValidationArgs

from policy.view import REPOSITORY, known, prop, stack_view


def validate_repository_protected(args: ResourceValidationArgs, report: ReportViolation) -> None:
    # What the analyzer can see: `opts.protect` and the provider's `archiveOnDestroy` input.
    # It cannot see `retain_on_delete`: the engine's AnalyzerResourceOptions (pulumi 3.x,
    # pulumi-policy 1.21) carries protect, ignoreChanges, deleteBeforeReplace, aliases,
    # customTimeouts, additionalSecretOutputs and parent only. So a repository kept by
    # retain_on_delete alone still gets this advisory; `archive_on_destroy=True` silences it.
    if args.resource_type != REPOSITORY:
        return
    archive = prop(args.props, "archiveOnDestroy")
    if not known(archive) or archive is True or bool(getattr(args.opts, "protect", False)):
        return
    report(
        f"repository {prop(args.props, 'name')!r} holds the record of every policy served, and nothing "
        "visible to the policy pack protects it from deletion. Set `archive_on_destroy=True` on the "
        "repository (or the `protect` resource option) so a destroy archives it instead.",
        None,
    )


def validate_pages_nojekyll(args: StackValidationArgs, report: ReportViolation) -> None:
    view = stack_view(args.resources)
    for urn, repository in view.pages:
        candidates = [
            path
            for _urn, file_repository, path in view.files
            if not known(repository, file_repository) or file_repository == repository
        ]
        if any(path == ".nojekyll" or not known(path) for path in candidates):
            continue
        report(
            f"GitHub Pages publishes repository {repository!r}, which has no `.nojekyll` file. Without it "
            "Jekyll drops dot-directories and /.well-known/mta-sts.txt is never served. "
            "Keep the `.nojekyll` file the stack writes for github-pages hosting.",
            urn,
        )


def validate_full_names(args: StackValidationArgs, report: ReportViolation) -> None:
    view = stack_view(args.resources)
    for record in view.records:
        name = record.name
        if not isinstance(name, str):
            continue
        if view.domains:
            full = any(name == domain or name.endswith("." + domain) for domain in view.domains)
            expected = f"under {' or '.join(sorted(view.domains))}"
        else:
            full = "." in name and name != "@"
            expected = "with the zone's name"
        if not full:
            report(
                f"{record.type} record {name!r} is not a full name {expected}. Cloudflare answers with full "
                "names, so a label shows a diff after every refresh "
                "(cloudflare/terraform-provider-cloudflare#7289). Write the full name, e.g. "
                f"{name}.{sorted(view.domains)[0] if view.domains else 'example.com'}.",
                record.urn,
            )
