"""The shop-floor tablet (768 px) and the phone (390 px): no page scrolls sideways, wide tables
scroll inside their own box, and the navigation folds into a menu that works without JavaScript.

Every page of ``SITE_PAGES`` is checked against :func:`small_screen_problems` at both widths and in
both languages by test_accessibility.py's page test (one visit of each page serves both checks).
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import set_language

# Markup and layout do not depend on the database: the accessibility sweep runs on one backend.
pytestmark = [pytest.mark.browser, pytest.mark.one_backend]

WIDTHS = (768, 390)

# What overflows: the page (sideways scrolling) with the elements that stick out of the window,
# and every table wider than its box that no scrolling box of its own contains.
LAYOUT = """() => {
  const width = window.innerWidth;
  const problems = [];
  const describe = el => `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : ''}`;
  const scrolls = el => ['auto', 'scroll'].includes(getComputedStyle(el).overflowX);
  const clipped = el => ['hidden', 'clip'].includes(getComputedStyle(el).overflowX);
  const inScroller = el => { for (let p = el.parentElement; p; p = p.parentElement) { if (scrolls(p) || clipped(p)) return true; } return false; };
  const overflow = document.documentElement.scrollWidth - width;
  if (overflow > 0) {
    const sticksOut = el => el.getBoundingClientRect().right > width + 1 && !inScroller(el);
    const culprits = [...document.body.querySelectorAll('*')]
      .filter(el => sticksOut(el) && !sticksOut(el.parentElement))  // the outermost ones
      .slice(0, 5).map(el => `${describe(el)} (right edge ${Math.round(el.getBoundingClientRect().right)} px)`);
    problems.push(`the page scrolls sideways by ${overflow} px: ${culprits.join('; ')}`);
  }
  for (const table of document.querySelectorAll('main table')) {
    const box = table.getBoundingClientRect();
    if (box.width === 0) continue;  // not shown
    let holder = table.parentElement;
    while (holder && !scrolls(holder) && !clipped(holder) && holder !== document.body) holder = holder.parentElement;
    if (holder && scrolls(holder)) {
      const own = holder.getBoundingClientRect();
      if (own.right > width + 1 || own.left < -1) problems.push(`${describe(table)} scrolls in ${describe(holder)}, itself wider than the window`);
    } else if (holder && clipped(holder) && table.scrollWidth > holder.clientWidth + 1) {
      problems.push(`${describe(table)} is cut off by ${describe(holder)}`);
    } else if (box.right > width + 1) {
      problems.push(`${describe(table)} sticks out of the window (${Math.round(box.right)} px) with no box to scroll in`);
    }
  }
  return problems;
}"""


def small_screen_problems(tab) -> list[str]:
    """What is wrong with the page as shown on a tablet or a phone: sideways scrolling, tables
    that stick out of their box, a navigation not folded into its menu (signed in)."""
    problems = tab.evaluate(LAYOUT)
    if tab.locator("details.navmenu").count():
        if not tab.locator("summary.navmenu__toggle").is_visible():
            problems.append("the navigation is not folded into a menu")
        if tab.locator("nav.mainnav a").first.is_visible():
            problems.append("the navigation's links show although the menu is closed")
    return problems


@pytest.mark.parametrize("width", WIDTHS)
def test_the_menu_opens_and_leads_somewhere_without_javascript(width, site, open_tab):
    with open_tab("cx_lead", width=width, javascript=False) as tab:
        set_language(tab, site, "fr")
        tab.goto("/impact")
        toggle = tab.locator("summary.navmenu__toggle")
        units = tab.locator("nav.mainnav a[href='/units']")
        sign_out = tab.locator(".navmenu [action='/logout'] [type=submit]")
        assert toggle.inner_text().strip() == "Menu"
        assert not units.is_visible() and not sign_out.is_visible()

        toggle.focus()
        tab.keyboard.press("Enter")  # a keyboard opens it as well as a finger
        assert units.is_visible() and sign_out.is_visible()
        assert tab.locator("nav.mainnav a[aria-current=page]").inner_text() == "Impact"
        assert tab.evaluate("document.documentElement.scrollWidth") <= width
        panel = tab.locator(".navmenu__panel").bounding_box()
        assert panel["x"] >= 0 and panel["x"] + panel["width"] <= width
        tab.keyboard.press("Enter")
        assert not units.is_visible()

        toggle.click()
        units.click()
        tab.wait_for_url("**/units")
        assert tab.locator("summary.navmenu__toggle").is_visible()
        assert not tab.locator("nav.mainnav a[href='/units']").is_visible()  # folded again


def test_wide_screens_show_the_navigation_as_a_bar(site, open_tab):
    with open_tab("staff", width=1280, javascript=False) as tab:
        set_language(tab, site, "fr")
        tab.goto("/units")
        assert not tab.locator("summary.navmenu__toggle").is_visible()
        links = tab.locator("nav.mainnav a")
        assert links.count() == 6 and all(link.is_visible() for link in links.all())
        assert tab.locator(".navmenu [action='/logout'] [type=submit]").is_visible()
        # One bar: the links side by side, not a column.
        tops = {round(link.bounding_box()["y"]) for link in links.all()}
        assert len(tops) == 1, tops
