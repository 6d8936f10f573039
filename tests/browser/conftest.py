"""Browser tests: Debian's Chromium driven by Playwright against a live server."""

from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture
def artifacts():
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def sign_in(live_server):
    def sign_in(page, email, password="pw"):
        page.goto(f"{live_server.url}/login/")
        page.fill("#id_username", email)
        page.fill("#id_password", password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(lambda url: "/login/" not in url)

    return sign_in


def assert_no_horizontal_scroll(page):
    width = page.evaluate("document.documentElement.scrollWidth")
    inner = page.evaluate("window.innerWidth")
    assert width <= inner, f"page is {width}px wide in a {inner}px window"


# Each word of visible text (split at spaces, hyphens and slashes, where a
# line may sensibly break) whose client rects lie on more than one line: a
# word broken inside itself. Words longer than ``longest`` characters (a
# hostile unbroken string) must break somewhere and are left out.
_BROKEN_WORDS = """(longest) => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const el = node.parentElement;
    if (!el || el.closest("select, option, datalist, script, style, .visually-hidden, [hidden]")) continue;
    if (!el.getClientRects().length) continue;
    const text = node.textContent;
    const re = /[^\\s\\-\\u2010-\\u2014\\/]+/g;
    let m;
    while ((m = re.exec(text))) {
      if (m[0].length < 2 || m[0].length > longest) continue;
      const range = document.createRange();
      range.setStart(node, m.index);
      range.setEnd(node, m.index + m[0].length);
      const rects = [...range.getClientRects()].filter(r => r.width > 0.5 && r.height > 0.5);
      const lines = new Set(rects.map(r => Math.round(r.bottom / 4)));
      if (lines.size > 1) out.push(m[0] + " in <" + el.tagName.toLowerCase() + " class=" + el.className + ">");
    }
  }
  return out;
}"""


def words_broken_inside(page, longest=40):
    return page.evaluate(_BROKEN_WORDS, longest)


# Every visible element with its own text: its colour, the first opaque
# background behind it, its size and weight (for WCAG's large-text rule).
_TEXT_COLOURS = """() => {
  const rgba = s => (s.match(/[\\d.]+/g) || []).map(Number);
  const out = [];
  for (const el of document.querySelectorAll("body *")) {
    if (el.closest("select, option, script, style, .visually-hidden, [hidden], svg")) continue;
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own || !el.getClientRects().length) continue;
    const style = getComputedStyle(el);
    if (style.visibility === "hidden" || Number(style.opacity) === 0) continue;
    let bg = null;
    for (let a = el; a; a = a.parentElement) {
      const c = rgba(getComputedStyle(a).backgroundColor);
      if (c.length === 4 && c[3] === 0) continue;
      bg = c.slice(0, 3);
      break;
    }
    out.push({
      text: [...el.childNodes].filter(n => n.nodeType === 3).map(n => n.textContent.trim()).join(" ").slice(0, 60),
      fg: rgba(style.color),
      bg: bg || [255, 255, 255],
      size: parseFloat(style.fontSize),
      bold: Number(style.fontWeight) >= 700,
    });
  }
  return out;
}"""


def low_contrast_texts(page):
    """(text, ratio) of every visible text below WCAG AA against the
    colour rendered behind it (3:1 for large text), with contrast computed by
    opsconsole.lib.contrast from the colours the browser computed."""
    from opsconsole.lib.contrast import AA, contrast

    def hexa(rgb):
        return "#{:02X}{:02X}{:02X}".format(*(round(c) for c in rgb))

    bad = []
    for item in page.evaluate(_TEXT_COLOURS):
        fg, bg = item["fg"], item["bg"]
        if len(fg) == 4:  # translucent text over its background
            a = fg[3]
            fg = [fg[i] * a + bg[i] * (1 - a) for i in range(3)]
        ratio = contrast(hexa(fg[:3]), hexa(bg))
        large = item["size"] >= 24 or (item["bold"] and item["size"] >= 18.66)
        if ratio < (3.0 if large else AA):
            bad.append((item["text"], round(ratio, 2)))
    return bad


_CLIPPED = """() => [...document.querySelectorAll("main *")].filter(el => {
  const style = getComputedStyle(el);
  if (style.textOverflow === "ellipsis" || el.closest("pre, .visually-hidden, select, textarea, input")) return false;
  if (!["auto", "scroll", "hidden"].includes(style.overflowX)) return false;
  return el.scrollWidth > el.clientWidth + 1;
}).map(el => el.tagName.toLowerCase() + "." + el.className + " " + el.scrollWidth + ">" + el.clientWidth)"""


def clipped_boxes(page):
    """Boxes of the page whose content is wider than they are (scrolled or
    cut inside a card), apart from text cut on purpose with an ellipsis."""
    return page.evaluate(_CLIPPED)
