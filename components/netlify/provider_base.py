"""What both Netlify providers share: the token read at run time, the client, errors without the token.

Manages: `NetlifyProvider`, the base of the two providers in components/netlify/provider.py.
It reads the token in `configure` from the stack config `mta-sts:netlifyToken` (the engine
unwraps secrets before they reach a dynamic provider), or from NETLIFY_AUTH_TOKEN; the token is
never an input or an output, and `__getstate__` drops it, so the provider Pulumi pickles into
the state (`serialize_provider`, dill) never carries it. `token_safe` makes whatever a provider
method raises reach the engine scrubbed. Also the checks both providers make of their inputs.
NETLIFY_API_URL points the client at another API root (the tests' local fake).

Leaves alone: the resources' own logic (components/netlify/provider.py). A pickled provider
names only its own class, not this base, so the base may move; but the provider host imports
this module too (through provider.py), so it imports little and has no side effects.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any, TypeVar

from pulumi.dynamic import ConfigureRequest, ResourceProvider

from components.netlify.api import NetlifyClient
from components.netlify.credential import TOKEN_HELP, TokenError, clean_token, scrub
from components.netlify.transport import DEFAULT_BASE_URL, NetlifyError
from components.polling import Backoff
from mtasts.constants import NETLIFY_TOKEN_ENV as TOKEN_ENV
from mtasts.constants import NETLIFY_TOKEN_KEY as TOKEN_CONFIG_KEY
from mtasts.constants import POLICY_HOST_LABEL
from mtasts.names import is_hostname

BASE_URL_ENV = "NETLIFY_API_URL"
POLICY_HOST_PREFIX = f"{POLICY_HOST_LABEL}."
# pulumi.runtime.rpc.UNKNOWN: what check and diff see for a value not known during preview.
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


class NetlifyProvider(ResourceProvider):
    """Credential handling and tunables shared by both providers; holds no token when pickled."""

    _token: str | None

    def __init__(
        self,
        *,
        backoff: Backoff | None = None,
        deploy_timeout_seconds: float = 300.0,
        max_rate_limit_wait: float = 60.0,
    ) -> None:
        super().__init__()
        self.backoff = backoff or Backoff(initial=2.0, maximum=30.0)
        self.deploy_timeout_seconds = deploy_timeout_seconds
        self.max_rate_limit_wait = max_rate_limit_wait
        self._token = None

    def configure(self, req: ConfigureRequest) -> None:
        # The provider host passes the whole stack config, namespaced, with secrets unwrapped
        # (https://github.com/pulumi/pulumi/pull/17673, which fixed pulumi/pulumi#17050).
        value = req.config.get(TOKEN_CONFIG_KEY)
        self._token = str(value) if value else None

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_token", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._token = None

    def _raw_token(self) -> str:
        return self._token or os.environ.get(TOKEN_ENV, "")

    def _client(self) -> NetlifyClient:
        try:
            token = clean_token(self._raw_token())
        except TokenError as error:
            raise NetlifyError(None, f"{error}.") from None
        if not token:
            raise NetlifyError(
                None,
                "No Netlify token in the stack config or the environment, so Netlify was not read or "
                "changed. Pull-request previews hold no Netlify token (Netlify has no read-only token): "
                f"run this in the deploy job, or {TOKEN_HELP}.",
            )
        return NetlifyClient(
            token=token,
            base_url=os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL,
            max_rate_limit_wait=self.max_rate_limit_wait,
        )

    def _scrub(self, text: str) -> str:
        """`text` without the token, as configured and as cleaned (see `credential.scrub`)."""
        raw = self._raw_token()
        for token in dict.fromkeys((raw, raw.strip())):
            text = scrub(text, token)
        return text


Method = TypeVar("Method", bound=Callable[..., Any])


def token_safe(method: Method) -> Method:
    """Whatever a provider method raises reaches the engine (and the user) without the token.

    The dynamic provider host reports an error with `traceback.format_exc()`, which prints
    the chained exceptions too; so the error is re-raised scrubbed, as a whole, `from None`.
    """

    @functools.wraps(method)
    def wrapper(self: NetlifyProvider, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except NetlifyError as error:
            raise NetlifyError(
                error.status, self._scrub(error.message), server_message=self._scrub(error.server_message)
            ) from None
        except Exception as error:
            raise NetlifyError(None, self._scrub(f"{type(error).__name__}: {error}")) from None

    return wrapper  # type: ignore[return-value]


def known(value: Any) -> bool:
    return value != UNKNOWN


def check_policy_host(value: Any) -> str | None:
    """Why `value` is not an acceptable custom domain, or None (RFC 8461 §3.2: exactly mta-sts.<domain>)."""
    if not isinstance(value, str):
        return f"custom_domain must be a string such as 'mta-sts.example.com', got {value!r}"
    if not value.startswith(POLICY_HOST_PREFIX) or not is_hostname(value[len(POLICY_HOST_PREFIX) :]):
        return (
            f"custom_domain must be exactly 'mta-sts.<domain>' in lower case, got {value!r}: senders fetch "
            "the policy from that name and follow no redirect (RFC 8461 §3.3)"
        )
    return None
