"""What both Netlify providers share: the token read at run time, the client, errors without the token.

Manages: `NetlifyProvider`, the base of the two providers in pulumi_mta_sts/netlify/provider.py.
It reads the token in `configure` from the stack config `mta-sts:netlifyToken` (the engine
unwraps secrets before they reach a dynamic provider), or from NETLIFY_AUTH_TOKEN. A resource may
also carry it as the secret input `netlify_token` (the component's argument): create, update and
check prefer that input; read and delete see only the recorded outputs, which never hold the
token, so they fall back to the config or the environment. The token is never an output, diff
ignores it, and `__getstate__` drops it, so the provider Pulumi pickles into the state
(`serialize_provider`, dill) never carries it. `token_safe` makes whatever a provider
method raises reach the engine scrubbed. Also the checks both providers make of their inputs.
NETLIFY_API_URL points the client at another API root (the tests' local fake).

Leaves alone: the resources' own logic (pulumi_mta_sts/netlify/provider.py). A pickled provider
names only its own class, not this base, so the base may move; but the provider host imports
this module too (through provider.py), so it imports little and has no side effects.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any, TypeVar

from pulumi.dynamic import ConfigureRequest, ResourceProvider
from pulumi_mta_sts.netlify.api import NetlifyClient
from pulumi_mta_sts.netlify.credential import TOKEN_HELP, TokenError, clean_token, scrub
from pulumi_mta_sts.netlify.transport import DEFAULT_BASE_URL, NetlifyError
from pulumi_mta_sts.polling import Backoff

from mtasts.constants import NETLIFY_TOKEN_ENV as TOKEN_ENV
from mtasts.constants import NETLIFY_TOKEN_KEY as TOKEN_CONFIG_KEY
from mtasts.constants import POLICY_HOST_LABEL
from mtasts.names import is_hostname

BASE_URL_ENV = "NETLIFY_API_URL"
POLICY_HOST_PREFIX = f"{POLICY_HOST_LABEL}."
# pulumi.runtime.rpc.UNKNOWN: what check and diff see for a value not known during preview.
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
# The secret input that carries a token given to the component; never in an output.
TOKEN_INPUT = "netlify_token"


def input_token(props: Any) -> str | None:
    """The token a resource's inputs carry, if any (the engine unwraps the secret for the provider)."""
    value = props.get(TOKEN_INPUT) if isinstance(props, dict) else None
    return value if isinstance(value, str) and value and known(value) else None


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

    def _raw_token(self, props: Any = None) -> str:
        return input_token(props) or self._token or os.environ.get(TOKEN_ENV, "")

    def _client(self, props: Any = None) -> NetlifyClient:
        """A client with the token from `props` (the resource's inputs), else the config or environment."""
        try:
            token = clean_token(self._raw_token(props))
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

    def _scrub(self, text: str, extra: tuple[str, ...] = ()) -> str:
        """`text` without the token, as configured, as given in an input (`extra`) and as cleaned
        (see `credential.scrub`)."""
        raws = (self._raw_token(), *extra)
        for token in dict.fromkeys(form for raw in raws for form in (raw, raw.strip())):
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
            extra = _input_tokens(args, kwargs)
            raise NetlifyError(
                error.status,
                self._scrub(error.message, extra),
                server_message=self._scrub(error.server_message, extra),
            ) from None
        except Exception as error:
            extra = _input_tokens(args, kwargs)
            raise NetlifyError(None, self._scrub(f"{type(error).__name__}: {error}", extra)) from None

    return wrapper  # type: ignore[return-value]


def _input_tokens(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[str, ...]:
    """Every token the method's property maps carry (olds and news may hold different ones)."""
    found = (input_token(value) for value in (*args, *kwargs.values()))
    return tuple(token for token in found if token)


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
