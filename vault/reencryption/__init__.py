"""Re-encryption: moving a running vault from one crypto suite to the other (#14).

``progress`` starts a run and reports it (the ``reencryptions`` row), ``subjects`` moves one
subject's KEK and sealed values into the target suite, and ``job`` is the background job that
walks the subjects in id order, one transaction each, resuming from the cursor after a restart.
"""

from vault.reencryption import progress, subjects
from vault.reencryption.job import Reencryption
from vault.reencryption.progress import Progress, Report

__all__ = ["Progress", "Reencryption", "Report", "progress", "subjects"]
