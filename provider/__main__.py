"""The plugin's entry: the language host runs `python <this folder> <engine address>`.

Nothing but the provider's start; the provider itself is `pulumi_mta_sts.provider`, installed
from the repository by this folder's requirements.txt.
"""

import sys

from pulumi_mta_sts.provider import serve

if __name__ == "__main__":
    serve(sys.argv[1:])
