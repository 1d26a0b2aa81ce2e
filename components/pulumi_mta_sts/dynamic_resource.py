"""The base of this package's dynamic resources: ones a program can create by the thousand.

`pulumi.dynamic.Resource` pickles its provider with `serialize_provider`, which sorts
dictionaries by replacing `pickle._Pickler._batch_setitems` with a wrapper around whatever
is there, and never puts the original back. Every dynamic resource a program creates so
wraps it once more, and pickling a dictionary walks through every wrapper: after about
1,000 dynamic resources in one process (some 200 domains in one stack, five each), every
further one fails with "maximum recursion depth exceeded" (pulumi/pulumi#17803 is this
error, closed without a reproduction). `DynamicResource` peels the wrappers off before each
serialization, so the SDK adds exactly one, whatever ran before.
"""

from __future__ import annotations

import pickle
from typing import Any

from pulumi.dynamic import Resource

# The name the SDK's wrappers close over: the function each one wraps.
_WRAPPED = "unsorted_batch_setitems"


def unwrap_sorted_pickler() -> None:
    """Put back the `_batch_setitems` that `serialize_provider`'s wrappers were stacked on.

    Only the SDK's own wrappers are peeled (functions local to `serialize_provider` that
    close over the function they wrap); anything else is left as found, so an SDK that fixes
    the leak, or renames its wrapper, finds nothing undone.
    """
    pickler: Any = pickle._Pickler  # type: ignore[attr-defined]
    function = pickler.__dict__.get("_batch_setitems")
    unwrapped = function
    while _is_sdk_wrapper(unwrapped):
        unwrapped = unwrapped.__closure__[unwrapped.__code__.co_freevars.index(_WRAPPED)].cell_contents
    if unwrapped is not function:
        pickler._batch_setitems = unwrapped


def _is_sdk_wrapper(function: Any) -> bool:
    code = getattr(function, "__code__", None)
    return (
        code is not None
        and function.__qualname__.startswith("serialize_provider.<locals>.")
        and _WRAPPED in code.co_freevars
        and function.__closure__ is not None
    )


class DynamicResource(Resource):
    """`pulumi.dynamic.Resource`, safe to create as many times as a program needs."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        unwrap_sorted_pickler()
        super().__init__(*args, **kwargs)
