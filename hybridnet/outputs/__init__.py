"""The output discipline every command follows: claim, write aside, rename, release.

A command that writes an output first *claims* its path: it takes an exclusive
lock beside it (``.NAME.hybridnet.lock`` in the parent, an ``flock`` the
kernel drops when the process dies, even by SIGKILL), so a second writer is
refused at once instead of silently losing the first one's work. Holding the
claim, it checks what it may replace (nothing without ``--force``; with it,
only what hybridnet recorded writing: every file it writes is entered, with
its size and SHA-256, in a manifest, :mod:`hybridnet.outputs.manifest`), cleans the temporaries of
earlier killed writers of the same path (no live process can own them while
the lock is held), and only then does the work. Every result is written to a
temporary sibling and renamed into place once complete, so an interrupted
command leaves the old output or the new one, never a mixture.
"""

from hybridnet.outputs.claim import Claim, claim, claim_fresh, claimed, write_output
from hybridnet.outputs.files import (
    describe_os_error,
    replace_file,
    stale_temporaries,
    temp_sibling,
)
from hybridnet.outputs.manifest import (
    MARKER,
    proven_file,
    read_manifest,
    record,
    record_file,
)
from hybridnet.outputs.ownership import (
    FIGURE_SIGNATURE,
    figure_signature,
    has_signature,
    marker_kind,
    starts_with,
    write_marker,
)

__all__ = ["Claim", "claim", "claim_fresh", "claimed", "write_output", "describe_os_error",
           "replace_file", "stale_temporaries", "temp_sibling", "FIGURE_SIGNATURE", "MARKER",
           "figure_signature", "has_signature", "marker_kind", "starts_with", "write_marker",
           "proven_file", "read_manifest", "record", "record_file"]
