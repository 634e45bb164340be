"""Shared fixtures: the public schemes and cases in ../shared (skipped when absent)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("DRG_SHARED", ROOT.parent / "shared"))
SCHEMES = SHARED / "schemes"
CASES = SHARED / "cases"


def shared_schemes() -> list[str]:
    if not SCHEMES.is_dir():
        return []
    return sorted(p.name for p in SCHEMES.iterdir() if (p / "mdc.csv").exists())


def case_files() -> list[str]:
    if not CASES.is_dir():
        return []
    return sorted(p.stem for p in CASES.glob("*.parquet") if (SCHEMES / p.stem).is_dir())


def need_shared():
    if not shared_schemes():
        pytest.skip(f"no public schemes at {SCHEMES} (set DRG_SHARED to the shared/ folder to run this test)")


@pytest.fixture(autouse=True, scope="session")
def _isolated_cache(tmp_path_factory):
    """Compiled schemes go to a per-run cache, never the user's."""
    os.environ["DRG_CACHE_DIR"] = str(tmp_path_factory.mktemp("scheme-cache"))
    yield


@pytest.fixture(scope="session")
def chs11():
    need_shared()
    import grouper

    return grouper.load_scheme(SCHEMES / "chs-drg-1.1")


TINY = {
    "meta.csv": "key,value\nid,tiny\nname,小方案\nformat_version,1\nmissing_age_days_weight_as_zero,false\nretry_secondary_px_alone,false\n",
    "mdc.csv": "order,mdc,rule\n1,MDCA,px_count > 0 and ppx in @OR\n2,MDCB,pdx in @MDCB.zd\n3,MDCP,pdx in @MDCP.zd and age_years == 0\n",
    "adrg.csv": "mdc,seq,step,kind,adrg,rule\n"
                "MDCA,1,AA1,adrg,AA1,px_count > 0 and ppx in @AA1.ss\n"
                "MDCB,1,BB1,adrg,BB1,pdx in @BB1.zd and px_count > 0 and ppx in @OR\n"
                "MDCB,2,BR1,adrg,BR1,pdx in @BR1.zd\n"
                "MDCP,1,PR1,adrg,PR1,pdx in @PR1.zd and known(age_days) and age_days <= 28\n",
    "drg.csv": "step,seq,drg,rule\nAA1,1,AA19,true\nBB1,1,BB11,dx_count > 1 and mcc\nBB1,2,BB15,true\n"
               "BR1,1,BR11,dx_count > 1 and mcc\nBR1,2,BR13,dx_count > 1 and (mcc or cc)\nBR1,3,BR15,true\n"
               "PR1,1,PR19,true\n",
    "lists.csv": "list,code\nMDCB.zd,I63.900\nMDCB.zd,I61.000\nBB1.zd,I61.000\nBR1.zd,I63.900\nBR1.zd,I61.000\nAA1.ss,37.5100\n"
                 "MDCP.zd,P07.100\nPR1.zd,P07.100\n",
    "tagged_lists.csv": "list,code,tag\n",
    "region_lists.csv": "list,code,region\n",
    "mcc.csv": "code,exclusion_id\nJ96.000,1\n",
    "cc.csv": "code,exclusion_id\nE11.900,2\n",
    "cc_exclusion.csv": "pdx,exclusion_id\nI63.900,3\n",
    "or_procedures.csv": "code,name\n37.5100,心脏移植\n01.2400,开颅术\n",
    "drg_names.csv": "drg,name\nAA19,心脏移植\nBB11,颅内出血手术伴严重并发症\nBB15,颅内出血手术\nBR11,脑血管病伴严重并发症\n"
                     "BR13,脑血管病伴并发症\nBR15,脑血管病\nPR19,新生儿\n",
    "dx_codes.csv": "code,name\nI63.900,脑梗死\nI61.000,脑出血\nJ96.000,呼吸衰竭\nE11.900,糖尿病\nP07.100,低出生体重\n",
    "px_codes.csv": "code,name\n37.5100,心脏移植\n01.2400,开颅术\n",
    "dx_map.csv": "from,to\nI63.900,I63.900\nI61.000,I61.000\nJ96.000,J96.000\nE11.900,E11.900\nI63.9,I63.900\n",
    "px_map.csv": "from,to\n37.5100,37.5100\n01.2400,01.2400\n",
}


@pytest.fixture(scope="session")
def tiny_dir(tmp_path_factory):
    """A hand-written six-rule scheme (no shared data needed)."""
    d = tmp_path_factory.mktemp("tiny")
    for name, text in TINY.items():
        (d / name).write_text(text, encoding="utf-8")
    return d


@pytest.fixture(scope="session")
def tiny(tiny_dir):
    import grouper

    return grouper.load_scheme(tiny_dir)


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")


def browser(size: str = "1440,1000"):
    """Headless Chromium under Selenium, offline (no background networking), logging the browser's requests."""
    if not (CHROMIUM and DRIVER):
        pytest.skip("headless Chromium not installed (Debian packages chromium and chromium-driver; scripts/test.sh installs them)")
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium not installed (pip install '.[test]')")
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
              "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage", f"--window-size={size}"):
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    return webdriver.Chrome(service=Service(DRIVER), options=opts)
