"""Tools of the page walk (tests/browser/test_page_walk.py): the URLconf's names, a browser
session that adds a strict CSP to every HTML answer and records console, page and CSP errors,
and the checks run on each page at each size, whose failures are collected, never raised, so
that one run lists them all."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from axe_playwright_python.base import AXE_SCRIPT
from django.urls import URLPattern, URLResolver, get_resolver
from playwright.sync_api import Browser, BrowserContext, Page

from tests.browser.test_browser_agent import log_in

SIZES = ((1280, 800), (320, 800), (320, 256))
BLOCKING = {"serious", "critical"}

# Added to every HTML answer while the portal sends none (see add_csp): an inline style or
# script, a style attribute, an external resource, a frame, each shows as a violation.
CSP = (
    "default-src 'self'; style-src 'self'; script-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)

# Runs before the page's own scripts; reads the element an inline violation comes from.
RECORD_CSP = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  let where = '';
  const t = e.target;
  if (t && t.nodeType === 1) {
    where = t.localName + (t.id ? '#' + t.id : '') +
      [...t.classList].slice(0, 2).map((c) => '.' + c).join('');
  }
  window.__cspViolations.push({
    directive: e.effectiveDirective || e.violatedDirective,
    blocked: e.blockedURI,
    sample: (e.sample || '').slice(0, 60),
    line: e.lineNumber,
    element: where,
  });
}, true);
"""

# WCAG 1.4.12 (RGAA 10.12): the spacing a user may impose.
TEXT_SPACING_CSS = (
    "* { line-height: 1.5 !important; letter-spacing: 0.12em !important; "
    "word-spacing: 0.16em !important; } p { margin-bottom: 2em !important; }"
)

# Shared by the two geometry checks: a short CSS path of an element, and whether it is hidden
# by a known technique (clip, clip-path, 1 px box, parked at negative coordinates).
_JS_HELPERS = """
const cssPath = (el) => {
  const parts = [];
  let node = el;
  while (node && node.nodeType === 1 && node !== document.body && parts.length < 4) {
    let part = node.localName;
    if (node.id) { parts.unshift(part + '#' + CSS.escape(node.id)); break; }
    part += [...node.classList].slice(0, 2).map((c) => '.' + CSS.escape(c)).join('');
    const parent = node.parentElement;
    if (parent) {
      const same = [...parent.children].filter((c) => c.localName === node.localName);
      if (same.length > 1) part += ':nth-of-type(' + (same.indexOf(node) + 1) + ')';
    }
    parts.unshift(part);
    node = parent;
  }
  return parts.join(' > ');
};
const clipped = (el) => {
  for (let a = el; a && a !== document.body; a = a.parentElement) {
    const s = getComputedStyle(a);
    if (s.clip !== 'auto' && (s.position === 'absolute' || s.position === 'fixed')) return true;
    if (s.clipPath && s.clipPath !== 'none') return true;
  }
  return false;
};
const box = (r) => ({x: Math.round(r.left), y: Math.round(r.top),
                     w: Math.round(r.width), h: Math.round(r.height)});
const text = (el) => (el.textContent || '').replace(/\\s+/g, ' ').trim().slice(0, 40);
"""

# Page-level horizontal overflow, and every visible element's box inside [0, innerWidth]
# unless inside a labelled scroll region (role="region", aria-label(ledby), tabindex="0") —
# whose own box is checked like any other element.
GEOMETRY = (
    "() => {"
    + _JS_HELPERS
    + """
const vw = window.innerWidth;
const named = (a, attribute) => (a.getAttribute(attribute) || '').trim();
const labelledRegion = (a) => a.getAttribute('role') === 'region'
  && (named(a, 'aria-label') || named(a, 'aria-labelledby'))
  && a.getAttribute('tabindex') === '0';
const offenders = [];
for (const el of document.body.querySelectorAll('*')) {
  if (!el.checkVisibility({checkVisibilityCSS: true})) continue;
  const r = el.getBoundingClientRect();
  if (r.width === 0 || r.height === 0) continue;
  if (r.right <= 0 || r.bottom <= 0) continue;  // parked off-screen until focused (skip link)
  if (clipped(el)) continue;  // visually hidden
  let left = r.left, right = r.right, scroller = null, inRegion = false;
  for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
    const s = getComputedStyle(a);
    if (s.overflowX === 'auto' || s.overflowX === 'scroll') {
      if (labelledRegion(a)) inRegion = true; else scroller = cssPath(a);
      break;
    }
    if (s.overflowX === 'hidden' || s.overflowX === 'clip') {
      const ar = a.getBoundingClientRect();
      left = Math.max(left, ar.left);
      right = Math.min(right, ar.right);
    }
  }
  if (inRegion || right - left <= 0) continue;
  if (left < -1 || right > vw + 1) offenders.push({el, scroller, r});
}
const bad = new Set(offenders.map((o) => o.el));
const outermost = offenders.filter((o) => {
  for (let a = o.el.parentElement; a; a = a.parentElement) if (bad.has(a)) return false;
  return true;
});
return {
  scrollWidth: document.documentElement.scrollWidth,
  innerWidth: vw,
  total: offenders.length,
  offenders: outermost.slice(0, 12).map((o) => ({
    selector: cssPath(o.el),
    box: box(o.r),
    text: text(o.el),
    inside: offenders.filter((p) => p.el !== o.el && o.el.contains(p.el)).length,
    scroller: o.scroller,
  })),
};
}"""
)

# Text cut off by its box: an element that hides its overflow while its content is larger.
CLIPPED_TEXT = (
    "() => {"
    + _JS_HELPERS
    + """
const found = [];
for (const el of document.body.querySelectorAll('*')) {
  if (!(el instanceof HTMLElement)) continue;
  if (['input', 'select', 'textarea', 'option'].includes(el.localName)) continue;
  if (!el.checkVisibility({checkVisibilityCSS: true}) || clipped(el)) continue;
  const s = getComputedStyle(el);
  const hx = s.overflowX === 'hidden' || s.overflowX === 'clip';
  const hy = s.overflowY === 'hidden' || s.overflowY === 'clip';
  if (!(hx || hy) || !text(el)) continue;
  const r = el.getBoundingClientRect();
  if (r.width <= 1 || r.height <= 1) continue;
  const tall = hy && el.scrollHeight > el.clientHeight + 1;
  const wide = hx && el.scrollWidth > el.clientWidth + 1;
  if (tall || wide) {
    found.push({selector: cssPath(el), box: box(r), text: text(el),
                scroll: [el.scrollWidth, el.scrollHeight],
                client: [el.clientWidth, el.clientHeight]});
  }
}
return found.slice(0, 12);
}"""
)

# Whether a text is shown inside a live region (RGAA 7.5: status messages are announced).
ANNOUNCED = """(wanted) => {
  const all = [...document.body.querySelectorAll('*')].filter(
    (el) => el.checkVisibility() && (el.textContent || '').includes(wanted));
  if (!all.length) return 'absent';
  const el = all[all.length - 1];
  for (let a = el; a; a = a.parentElement) {
    const role = a.getAttribute('role');
    const live = a.getAttribute('aria-live');
    if (['status', 'alert', 'log'].includes(role) || ['polite', 'assertive'].includes(live)) {
      return 'ok';
    }
  }
  return 'not-live';
}"""


# The element keyboard focus is on, and whether its focus can be seen (RGAA 10.7): an outline of
# at least 2 px, the browser's own ring (outline-style auto), or a box shadow.
FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) return null;
  const s = getComputedStyle(el);
  const outline = s.outlineStyle === 'auto'
    || (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2);
  const shadow = s.boxShadow && s.boxShadow !== 'none';
  let path = el.tagName.toLowerCase();
  if (el.id) path += '#' + el.id;
  else if (el.getAttribute('name')) path += '[name="' + el.getAttribute('name') + '"]';
  else if (el.textContent.trim()) path += ' « ' + el.textContent.trim().slice(0, 40) + ' »';
  return {path, visible: outline || shadow};
}"""
MAX_TABS = 25


def invisible_focus(page: Page) -> list[str]:
    """Tab through the page's first focusable elements; those whose focus cannot be seen."""
    page.evaluate(
        "() => { document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0); }"
    )
    seen: list[str] = []
    invisible: list[str] = []
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        if focused is None or focused["path"] in seen:
            break
        seen.append(focused["path"])
        if not focused["visible"]:
            invisible.append(focused["path"])
    return invisible


def url_names(patterns=None, namespace: str = "") -> Iterator[str]:
    """Every named URL pattern of the URLconf, namespaced (« dossiers:detail »)."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from url_names(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield f"{namespace}{pattern.name}"


def size_label(size: tuple[int, int]) -> str:
    return f"{size[0]}×{size[1]}"


@dataclass
class Failures:
    """What failed, by page, then size and check; asserted once, at the end."""

    # page → (check, detail) → sizes where it failed
    items: dict[str, dict[tuple[str, str], list[str]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(list))
    )

    def add(self, page: str, size: str, check: str, detail: str) -> None:
        self.items[page][(check, detail)].append(size)

    def __bool__(self) -> bool:
        return bool(self.items)

    def count(self) -> int:
        return sum(len(sizes) for found in self.items.values() for sizes in found.values())

    def report(self, title: str) -> str:
        """One block per page; a failure seen at several sizes is written once, with them."""
        lines = [f"{title} : {self.count()} échec(s) sur {len(self.items)} page(s)"]
        for page, found in self.items.items():
            lines.append(f"\n● {page}")
            lines.extend(
                f"    [{', '.join(sizes)}] {check} : {detail}"
                for (check, detail), sizes in found.items()
            )
        return "\n".join(lines)

    def as_json(self) -> str:
        data = {
            page: [
                {"check": check, "detail": detail, "sizes": sizes}
                for (check, detail), sizes in found.items()
            ]
            for page, found in self.items.items()
        }
        return json.dumps(data, ensure_ascii=False, indent=2)


class Session:
    """One browser context (one user) and its page, reused for every visit of that user."""

    def __init__(self, browser: Browser, base_url: str, **options):
        self.base_url = base_url
        self.context: BrowserContext = browser.new_context(**options)
        self.context.add_init_script(RECORD_CSP)
        self.page: Page = self.context.new_page()
        self.console: list[str] = []
        self.errors: list[str] = []
        self.page.on("console", self._on_console)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))

    def _on_console(self, message) -> None:
        if message.type == "error":
            url = message.location.get("url", "")
            self.console.append(f"{message.text} ({url})" if url else message.text)

    def log_in(self, username: str, second_factor: bool = True) -> None:
        log_in(self.page, self.base_url, username, second_factor=second_factor)

    def reset(self) -> None:
        self.console.clear()
        self.errors.clear()

    def goto(self, path: str, size: tuple[int, int]) -> int | None:
        self.page.set_viewport_size({"width": size[0], "height": size[1]})
        self.reset()
        response = self.page.goto(f"{self.base_url}{path}")
        return response.status if response else None

    def close(self) -> None:
        self.context.close()


def add_csp(server) -> Callable[[], None]:
    """Add CSP (report-only) to every HTML answer of the live server; returns the undo.

    Server-side, not with page.route: Playwright does not route the request a redirect leads
    to, and the pages that action forms land on come after a 302. Report-only: the browser
    reports each violation (event and console) without blocking, so the page is measured as
    users see it today; an enforced policy would leave it unstyled while <style> is inline.
    """
    httpd = server.thread.httpd
    app = httpd.get_app()

    def with_csp(environ, start_response):
        def start(status, headers, exc_info=None):
            if any(k.lower() == "content-type" and v.startswith("text/html") for k, v in headers):
                headers = [*headers, ("Content-Security-Policy-Report-Only", CSP)]
            return start_response(status, headers, exc_info)

        return app(environ, start)

    httpd.set_app(with_csp)
    return lambda: httpd.set_app(app)


def open_details(page: Page) -> None:
    page.evaluate("document.querySelectorAll('details').forEach((d) => { d.open = true; })")


def axe_violations(page: Page) -> list[dict]:
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SCRIPT)
    results = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return results["violations"]


def check_page(
    session: Session,
    failures: Failures,
    page_label: str,
    size: tuple[int, int],
    *,
    status: int | None,
    expected_status: int = 200,
    run_axe: bool = True,
    announced: str | None = None,
) -> None:
    """Every check of the walk on the page as it is now; failures are recorded, not raised."""
    page = session.page
    where = size_label(size)
    if status != expected_status:
        failures.add(page_label, where, "HTTP", f"statut {status}, attendu {expected_status}")
        if status is None or status >= 500:
            return
    open_details(page)
    csp = page.evaluate("window.__cspViolations || []")
    by_directive: dict[str, list[str]] = defaultdict(list)
    for v in csp:
        by_directive[f"{v['directive']} refuserait {v['blocked'] or 'inline'}"].append(
            f"<{v['element']}>" if v["element"] else f"« {v['sample']} » ligne {v['line']}"
        )
    for directive, where_from in by_directive.items():
        shown = _dedupe(where_from)
        failures.add(
            page_label,
            where,
            "CSP",
            f"{directive} : {len(where_from)} fois — {', '.join(shown[:6])}"
            + (" …" if len(shown) > 6 else ""),
        )
    expected_load_error = f"the server responded with a status of {expected_status}"
    for message in _dedupe(session.console):
        if "Content Security Policy" in message:
            if not csp:  # the event already names it, with its element
                failures.add(page_label, where, "CSP (console)", message[:300])
        elif expected_status != 200 and expected_load_error in message:
            continue  # the browser logs the page's own expected 4xx
        else:
            failures.add(page_label, where, "erreur console", message[:300])
    for message in _dedupe(session.errors):
        failures.add(page_label, where, "erreur JS", message[:300])
    session.reset()

    check_geometry(page, failures, page_label, where)

    if announced is not None:
        verdict = page.evaluate(ANNOUNCED, announced)
        if verdict == "absent":
            failures.add(page_label, where, "message flash", f"« {announced} » absent")
        elif verdict == "not-live":
            failures.add(
                page_label,
                where,
                "message flash",
                f"« {announced} » hors d'une région annoncée (role=status/alert, aria-live)",
            )

    if run_axe:
        for violation in axe_violations(page):
            if violation["impact"] in BLOCKING:
                targets = [", ".join(n["target"]) for n in violation["nodes"]]
                shown = "; ".join(targets[:4]) + (" …" if len(targets) > 4 else "")
                failures.add(
                    page_label,
                    where,
                    f"axe {violation['id']} ({violation['impact']})",
                    f"{violation['help']} — {len(targets)} élément(s) : {shown}",
                )


def check_geometry(page: Page, failures: Failures, page_label: str, where: str) -> None:
    """Reflow (RGAA 10.11): no page-level horizontal scroll, every visible box in the viewport
    or in a labelled scroll region."""
    geometry = page.evaluate(GEOMETRY)
    if geometry["scrollWidth"] > geometry["innerWidth"]:
        failures.add(
            page_label,
            where,
            "débordement horizontal de la page",
            f"scrollWidth {geometry['scrollWidth']} > innerWidth {geometry['innerWidth']}",
        )
    for item in geometry["offenders"]:
        failures.add(page_label, where, "élément hors de la fenêtre", _describe(item))
    hidden = (
        geometry["total"]
        - len(geometry["offenders"])
        - sum(o["inside"] for o in geometry["offenders"])
    )
    if hidden > 0:
        failures.add(page_label, where, "élément hors de la fenêtre", f"… et {hidden} autre(s)")


def check_text_spacing(
    session: Session, failures: Failures, page_label: str, size: tuple[int, int]
) -> None:
    """WCAG 1.4.12 spacing imposed on the page as loaded: no overflow, no text cut off."""
    page = session.page
    where = f"{size_label(size)} + espacement du texte"
    open_details(page)
    page.add_style_tag(content=TEXT_SPACING_CSS)
    check_geometry(page, failures, page_label, where)
    for item in page.evaluate(CLIPPED_TEXT):
        failures.add(
            page_label,
            where,
            "texte coupé",
            f"{item['selector']} {_box(item['box'])} contenu {item['scroll']} > boîte "
            f"{item['client']} « {item['text']} »",
        )


def _box(b: dict) -> str:
    return f"(x={b['x']}, y={b['y']}, l={b['w']}, h={b['h']})"


def _describe(item: dict) -> str:
    text = f"{item['selector']} {_box(item['box'])}"
    if item["text"]:
        text += f" « {item['text']} »"
    if item["inside"]:
        text += f" (+{item['inside']} élément(s) dedans)"
    if item["scroller"]:
        text += " — dans une zone de défilement sans role=region/aria-label/tabindex=0 : "
        text += item["scroller"]
    return text


def _dedupe(items) -> list[str]:
    return list(dict.fromkeys(items))
