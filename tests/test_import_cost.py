"""Reading cached results does not import scikit-learn or statsmodels; fitting still does."""

from __future__ import annotations

import subprocess
import sys


def _modules_after(code: str) -> set[str]:
    probe = f"import sys\n{code}\nprint(' '.join(sorted({{m.split('.')[0] for m in sys.modules}})))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_library_modules_import_without_scikit_learn():
    code = (
        "from globalrs.estimates import aoa, applicability, divergence, ensemble, evaluate, forcing, gridded, mgrsd, rh\n"
        "from globalrs.process_models import benchmark\n"
        "from globalrs.app import compare\n"
        "from globalrs.viz import plots\n"
        "from globalrs.core import stats"
    )
    assert not {"sklearn", "statsmodels"} & _modules_after(code)


def test_making_an_estimator_imports_it_when_needed():
    code = (
        "from globalrs.estimates import ensemble, mgrsd\nensemble.make_estimator('random_forest')\nmgrsd.make_monthly_estimator()"
    )
    assert "sklearn" in _modules_after(code)


def test_an_ols_fit_imports_statsmodels_when_needed():
    assert "statsmodels" in _modules_after(
        "from globalrs.core import stats\nstats.fit_ols([1.0, 2.0, 3.0, 4.0], [1.0, 3.0, 2.0, 5.0])"
    )
