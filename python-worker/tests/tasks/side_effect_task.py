"""A module with an import-time side effect: it creates the file named by $SIDE_EFFECT_MARKER.

Used to prove that a call to a module outside the allow list does not import it.
"""

import os

with open(os.environ["SIDE_EFFECT_MARKER"], "w") as marker:
    marker.write("imported\n")


def touch() -> str:
    return "called"
