"""Every admin page names the product and the clinic; text of 13 px at least; tablet widths."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders

pytestmark = pytest.mark.django_db


def test_the_header_and_the_title_name_keneyapp_and_the_clinic(browser, doctor, clinic):
    page = browser(doctor).get("/admin/patients/patient/").content.decode()
    assert f"KeneyApp · {clinic.name}</a>" in page
    title = re.search(r"<title>(.*?)</title>", page, re.S).group(1)
    assert title.strip().endswith(f"| KeneyApp · {clinic.name}")
    assert "Django" not in title
    assert "keneyapp/admin.css" in page


def test_the_login_page_names_the_product(client):
    page = client.get("/admin/login/").content.decode()
    assert "KeneyApp" in page and "Django administration" not in page


def _font_sizes(css: str) -> list[str]:
    return re.findall(r"font-size:\s*([^;]+);", css)


def test_no_stylesheet_of_ours_sets_text_below_13_px():
    sheets = [Path(finders.find("keneyapp/admin.css")), Path(finders.find("appointments/desk.css")),
              Path(finders.find("documents/summary.css"))]  # fmt: skip
    for sheet in sheets:
        for size in _font_sizes(sheet.read_text()):
            size = size.strip()
            if size.startswith("max(13px"):
                continue
            value = float(re.match(r"[\d.]+", size).group())
            unit = size[len(re.match(r"[\d.]+", size).group()) :]
            assert (unit == "px" and value >= 13) or (unit in ("em", "rem") and value >= 0.8125), (
                sheet,
                size,
            )


def test_djangos_small_text_is_raised_to_13_px():
    """Each selector for which Django's admin CSS sets less than 13 px is in our override."""
    admin_css = Path(finders.find("admin/css/base.css")).parent
    ours = Path(finders.find("keneyapp/admin.css")).read_text()
    small = []
    for name in ("base.css", "forms.css", "widgets.css"):
        css = re.sub(r"/\*.*?\*/", "", (admin_css / name).read_text(), flags=re.S)
        for selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css):
            match = re.search(r"font-size:\s*(0?\.[0-7]\d*r?em|1[0-2]px)", body)
            if match:
                small += [s.strip() for s in selectors.split(",") if s.strip() and "@" not in s]
    assert small
    missing = [selector for selector in small if selector not in ours]
    assert not missing, missing


def test_wide_tables_scroll_inside_their_box(browser, clinic_admin, doctor):
    assert "DIRS" in settings.TEMPLATES[0]
    calendar = browser(clinic_admin).get(f"/admin/appointments/appointment/calendar/?provider={doctor.pk}")
    assert '<div class="kn-table-wrap"><table class="kn-grid">' in calendar.content.decode()
    today = browser(clinic_admin).get("/admin/appointments/appointment/today/")
    assert '<div class="kn-table-wrap"><table id="result_list">' in today.content.decode()
