"""cchlib: the small helper library behind the CCH reproduction book.

One module per concern:

- ``cchlib.data``     paired multimodal datasets and their sources (synthetic, ...)
- ``cchlib.models``   the paper's networks
- ``cchlib.distill``  knowledge-distillation objectives
- ``cchlib.train``    teacher / student / distilled-student training, seeds batched
- ``cchlib.mi``       mutual-information estimation (``estimate`` is the front door)
- ``cchlib.theory``   the jointly Gaussian linear model of Sec. 3 / App. A
- ``cchlib.sweep``    sweep cells, their on-disk cache and executors
- ``cchlib.report``   tables and the reproduction scorecard
- ``cchlib.provenance`` which code, device and libraries computed a number
- ``cchlib.io``       result folders and atomic writes
- ``cchlib.book``     the command that executes the notebooks and builds the book

Lower layers (data, models, mi, theory, sweep, report) import nothing above them;
``provenance`` and ``io`` import nothing of cchlib, and the import graph has no cycle
(``tests/test_provenance.py``).
"""

__version__ = "0.1.0"
