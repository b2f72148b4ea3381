"""The standard formats (#13) through the API, for any chain engine and database: issuers'
keys from the registry, SD-JWT VC, W3C VC 2.0, the status lists and DC1 presentations, each
checked by a library other than the one that made it.

Test modules import these tests and provide a ``harness`` fixture (tests/support/harness.py):
``tests/unit/api/test_formats_inprocess.py`` and ``tests/integration/vault/test_formats_backends.py``.
"""

from tests.formats_conformance.cose_presentations import *
from tests.formats_conformance.issuers import *
from tests.formats_conformance.sd_jwt import *
from tests.formats_conformance.status_lists import *
from tests.formats_conformance.w3c_vc import *
