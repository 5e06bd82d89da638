"""Reading cached results does not import scikit-learn, statsmodels or the heavy scipy packages; fitting still does.

Every chapter kernel pays for what its first cell imports (bench_build lists each kernel's CPU-s):
scipy.optimize, scipy.stats and scipy.ndimage cost 0.2-0.5 CPU-s each there, so the library
imports them where a function needs them.
"""

from __future__ import annotations

import subprocess
import sys


def _modules_after(code: str, top_level: bool = True) -> set[str]:
    name = "m.split('.')[0]" if top_level else "m"
    probe = f"import sys\n{code}\nprint(' '.join(sorted({{{name} for m in sys.modules}})))"
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


LIBRARY_IMPORTS = (
    "from globalrs.estimates import aoa, applicability, divergence, ensemble, evaluate, forcing, gridded, mgrsd, rh\n"
    "from globalrs.gridding import regions\n"
    "from globalrs.sources import literature\n"
    "from globalrs.reproduction import paper, record\n"
    "from globalrs.viz import plots"
)


def test_library_modules_import_without_scipy_optimize_stats_or_ndimage():
    assert not {"scipy.optimize", "scipy.stats", "scipy.ndimage"} & _modules_after(LIBRARY_IMPORTS, top_level=False)


def test_a_least_squares_fit_and_a_group_test_import_scipy_when_needed():
    code = (
        "import numpy as np\n"
        "from globalrs.estimates import models\n"
        "from globalrs.sources import literature\n"
        "t = np.tile(np.linspace(0, 25, 12), (8, 1)) + np.arange(8)[:, None]\n"
        "p = np.full((8, 12), 60.0)\n"
        "models.fit_lloyd_taylor(t, p, 300.0 + 40.0 * np.arange(8))\n"
        "literature.compare_method_families([70.0, 75.0, 80.0], [85.0, 90.0, 95.0])"
    )
    assert {"scipy.optimize", "scipy.stats"} <= _modules_after(code, top_level=False)
