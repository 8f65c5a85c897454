"""WCAG 2.1 AA on every main page, for each role, in English and French, on a laptop and a phone.

axe-core (through axe-playwright-python) checks each page of ``SITE_PAGES`` in English on a laptop
(1280 px) and in French on a phone (390 px: the longer words, the folded menu, the compact charts),
with its folded parts (``<details>``) open; a violation of impact "serious" or "critical" fails
the page and is printed with its rule, nodes and help. The same visit checks the page on a tablet
and a phone in both languages (test_responsive.py). Beside it: the skip link works, and every
control shows where the keyboard focus is.
"""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.browser.conftest import SITE_PAGES, set_language
from tests.browser.test_responsive import small_screen_problems

# Markup and layout do not depend on the database: the accessibility sweep runs on one backend.
pytestmark = [pytest.mark.browser, pytest.mark.one_backend]

AXE = Axe()
BLOCKING = ("critical", "serious")
WIDTHS = (1280, 390)  # a laptop; a phone (the tablet's 768 px is the small-screen tests')


# The table a node is or holds, by its id and caption: axe's selectors alone are hard to place.
TABLE_OF = """selector => {
  const node = document.querySelector(selector);
  const table = node && (node.matches('table') ? node : node.querySelector('table'));
  if (!table) return '';
  const caption = table.querySelector('caption');
  const name = (caption && caption.textContent.trim()) || table.getAttribute('aria-label') || '';
  return `table${table.id ? '#' + table.id : ''} "${name.slice(0, 80)}"`;
}"""


def blocking_violations(tab, where: str) -> list[str]:
    """axe's serious and critical violations on the page as shown, one readable entry each."""
    results = AXE.run(tab).response
    found = []
    for violation in results["violations"]:
        if violation["impact"] not in BLOCKING:
            continue
        nodes = []
        for node in violation["nodes"][:6]:
            target = ", ".join(map(str, node["target"]))
            table = tab.evaluate(TABLE_OF, node["target"][0]) if len(node["target"]) == 1 else ""
            nodes.append(
                f"      - {target}{' (' + table + ')' if table else ''}: {node['html'][:160]}"
                + (
                    "\n        " + node["failureSummary"].replace("\n", "\n        ")
                    if node.get("failureSummary")
                    else ""
                )
            )
        more = len(violation["nodes"]) - 6
        found.append(
            f"[{where}] {violation['id']} ({violation['impact']}): {violation['help']}\n"
            f"    {violation['helpUrl']}\n"
            + "\n".join(nodes)
            + (f"\n      ... and {more} more" if more > 0 else "")
        )
    return found


@pytest.mark.parametrize("site_page", SITE_PAGES, ids=[page.name for page in SITE_PAGES])
def test_page_is_accessible_and_fits_tablets_and_phones(site_page, site, open_tab):
    """axe in English on a laptop and in French on a phone; the small-screen layout at 768 and
    390 px in both languages (test_responsive.small_screen_problems)."""
    violations: list[str] = []
    layout: list[str] = []

    def check_layout(language: str, width: int) -> None:
        tab.set_viewport_size({"width": width, "height": 900})
        where = f"[{language} {width}px {tab.url}]"
        layout.extend(f"{where} {problem}" for problem in small_screen_problems(tab))

    with open_tab(site_page.role) as tab:
        site_page.load(tab, site, "en")
        violations += blocking_violations(tab, f"en 1280px {tab.url}")
        check_layout("en", 768)
        check_layout("en", 390)
        site_page.load(tab, site, "fr")
        violations += blocking_violations(tab, f"fr 390px {tab.url}")
        check_layout("fr", 390)
        check_layout("fr", 768)
    report = []
    if violations:
        report += [f"{len(violations)} accessibility violations:", *violations]
    if layout:
        report += [f"{len(layout)} small-screen problems:", *layout]
    assert not report, "\n".join(report)


@pytest.mark.parametrize("width", WIDTHS)
def test_the_skip_link_is_the_first_stop_and_moves_focus_to_the_content(width, site, open_tab):
    with open_tab("staff", width=width) as tab:
        set_language(tab, site, "fr")
        tab.goto("/units")
        tab.keyboard.press("Tab")
        skip = tab.locator(".skip-link")
        assert skip.evaluate("link => link === document.activeElement")
        box = skip.bounding_box()
        assert box is not None and box["y"] >= 0 and box["x"] >= 0  # shown while focused
        assert box["x"] + box["width"] <= width
        tab.keyboard.press("Enter")
        tab.wait_for_url("**/units#main")
        assert tab.evaluate("document.activeElement.id") == "main"
        tab.keyboard.press("Tab")  # the next stop is inside the content, not back in the header
        assert tab.evaluate("document.querySelector('main').contains(document.activeElement)")


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_open_menu_passes_axe_on_a_phone(language, site, open_tab):
    with open_tab("cx_lead", width=390) as tab:
        set_language(tab, site, language)
        tab.goto("/units")
        tab.locator("summary.navmenu__toggle").click()
        assert tab.locator("nav.mainnav a[href='/units']").is_visible()
        found = blocking_violations(tab, f"{language} 390px, menu open")
    assert not found, "\n".join(found)


# Pages rich in controls of every kind: links, buttons, summaries, fields, checkboxes, selects.
FOCUS_PAGES = [
    page
    for page in SITE_PAGES
    if page.name in {"sign-in", "search", "unit", "plan-find", "metrics-cx-lead"}
]

# Read on the focused element: is the focus drawn (an outline of 2 px or more, or a ring drawn
# with box-shadow) and is the element on screen?
FOCUS_STATE = """() => {
  const element = document.activeElement;
  if (!element || element === document.body) return null;
  const style = getComputedStyle(element);
  const box = element.getBoundingClientRect();
  const outlined = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2;
  const ringed = style.boxShadow !== 'none';
  const label = (element.getAttribute('aria-label') || element.innerText || element.name || element.id || '').trim().slice(0, 40);
  if (element.focusStop === undefined) element.focusStop = (window.focusStops = (window.focusStops || 0) + 1);
  return {
    key: element.focusStop,
    name: `${element.tagName.toLowerCase()}${element.className ? '.' + String(element.className).split(' ').join('.') : ''} "${label}"`,
    visible: outlined || ringed,
    onScreen: box.width > 0 && box.height > 0 && box.right > 0 && box.left < window.innerWidth,
  };
}"""


@pytest.mark.parametrize("site_page", FOCUS_PAGES, ids=[page.name for page in FOCUS_PAGES])
def test_every_control_shows_the_keyboard_focus(site_page, site, open_tab):
    problems: list[str] = []
    with open_tab(site_page.role) as tab:
        for width in WIDTHS:
            tab.set_viewport_size({"width": width, "height": 900})
            site_page.load(tab, site, "fr")
            seen: set[int] = set()
            for _ in range(250):
                tab.keyboard.press("Tab")
                state = tab.evaluate(FOCUS_STATE)
                if state is None:
                    continue  # past the last stop: the next Tab starts again at the top
                if state["key"] in seen:
                    break  # round again: every stop was visited
                seen.add(state["key"])
                if not (state["visible"] and state["onScreen"]):
                    problems.append(f"[{width}px] {state['name']}: {state}")
            assert len(seen) > 5, f"[{width}px] only {len(seen)} focus stops"
    assert not problems, "focus not visible on:\n" + "\n".join(problems)
