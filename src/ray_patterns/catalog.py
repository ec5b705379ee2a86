"""The handbook catalog: every page named once, with its checks, exports, bench case and docs.

This is the one place that names pages, codes and links. Everything that lists pages
(lazy exports, lint rules, doctor checks, bench cases, the docs nav and tables,
``ray-patterns pages``) is derived from it or tested against it.

A page's ``slug`` is its stable name everywhere; ``aliases`` are the names Ray's
current handbook uses for it. Each anti-pattern a page describes is one ``Check``
with one code, shared by the lint (source) and the doctor (run time).

Example::

    >>> from ray_patterns.catalog import check, page
    >>> check("limit-pending-tasks").code, page("RAY105").slug
    ('RAY302', 'ray-get-loop')
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Literal

Group = Literal[
    "basic-patterns", "basic-anti-patterns", "advanced-patterns", "advanced-anti-patterns"
]
Source = Literal["lint", "doctor"]

#: the handbook's four groups, in its order (the original index.rst)
GROUPS: dict[Group, str] = {
    "basic-patterns": "Basic patterns",
    "basic-anti-patterns": "Basic anti-patterns",
    "advanced-patterns": "Advanced patterns",
    "advanced-anti-patterns": "Advanced anti-patterns",
}

RAY_DOCS = "https://docs.ray.io/en/latest/ray-core/patterns/"
#: our documentation site; a page is ``{DOCS_SITE}{group}/{slug}/``
DOCS_SITE = "https://ray-patterns.readthedocs.io/en/latest/"

#: the lint's own diagnostic for a file that does not parse (not a handbook check)
PARSE_ERROR_CODE = "RAY001"
PARSE_ERROR_NAME = "cannot-parse"

#: public names that belong to no single page: shared machinery, the error base
SHARED_EXPORTS: dict[str, str] = {
    "ResultStream": "_stream",
    "RayPatternsError": "_errors",
}

#: bench cases that measure the tool itself rather than a page
TOOL_BENCH_CASES: tuple[str, ...] = ("doctor-overhead",)


@dataclass(frozen=True)
class Check:
    """One anti-pattern, one code: the same finding from the lint and the doctor.

    ``lint`` / ``doctor`` say which of the two can see it; ``old_codes`` are codes
    it had before (accepted, with a deprecation note, for one release).
    """

    code: str
    name: str
    summary: str
    fix_title: str
    lint: bool = True
    doctor: bool = True
    old_codes: tuple[str, ...] = ()
    #: filled in by ``Page``: the slug of the page the check belongs to
    page: str = ""

    @property
    def docs_url(self) -> str:
        """Our rule page."""
        return f"{DOCS_SITE}rules/{self.name}/"

    @property
    def ray_url(self) -> str:
        return page(self.page).ray_url


@dataclass(frozen=True)
class Page:
    """One handbook page and everything this project builds for it."""

    slug: str
    title: str
    group: Group
    #: Ray's current page for this slug (a renamed page, a dropped one's nearest doc)
    ray_url: str
    #: the names Ray's current handbook uses for this page, when they differ from the slug
    aliases: tuple[str, ...] = ()
    #: public names of ``ray_patterns`` defined in the page's own ``module``
    exports: tuple[str, ...] = ()
    #: library names from other pages that are this page's fix too
    uses: tuple[str, ...] = ()
    checks: tuple[Check, ...] = ()
    #: True when Ray's current handbook no longer lists the page (we keep it)
    dropped_by_ray: bool = False
    #: what the fix is when it is plain Ray and there is nothing to export
    plain_ray_fix: str = ""
    extra: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        # each check knows its page; frozen dataclasses are set via object.__setattr__
        object.__setattr__(self, "checks", tuple(_with_page(c, self.slug) for c in self.checks))

    @property
    def snake(self) -> str:
        """The slug as a Python name: module, bench case module and examples folder."""
        return self.slug.replace("-", "_")

    @property
    def module(self) -> str:
        """The library module of the page: ``ray_patterns.<slug in snake_case>``."""
        return f"ray_patterns.{self.snake}"

    @property
    def bench_case(self) -> str:
        """The bench case's name (a module in ``ray_patterns.bench.cases``)."""
        return self.slug

    @property
    def examples_dir(self) -> str:
        """Runnable examples (``anti.py``, ``fixed.py``, ``library.py``), from the repo root."""
        return f"examples/{self.snake}"

    @property
    def doc_path(self) -> str:
        """The doc page, relative to ``docs/``."""
        return f"{self.group}/{self.slug}.md"

    @property
    def docs_url(self) -> str:
        return f"{DOCS_SITE}{self.group}/{self.slug}/"

    @property
    def library(self) -> tuple[str, ...]:
        """What a user calls for this page: its own exports, then those it uses."""
        return (*self.exports, *self.uses)

    @property
    def names(self) -> tuple[str, ...]:
        """Every name the page answers to: its slug and Ray's names for it."""
        return (self.slug, *self.aliases)

    def as_dict(self) -> dict[str, object]:
        return {
            "slug": self.slug,
            "title": self.title,
            "group": self.group,
            "aliases": list(self.aliases),
            "library": list(self.library),
            "plain_ray_fix": self.plain_ray_fix or None,
            "checks": [
                {
                    "code": c.code,
                    "name": c.name,
                    "summary": c.summary,
                    "fix_title": c.fix_title,
                    "lint": c.lint,
                    "doctor": c.doctor,
                    "old_codes": list(c.old_codes),
                    "docs_url": c.docs_url,
                }
                for c in self.checks
            ],
            "bench_case": self.bench_case,
            "examples": self.examples_dir,
            "doc_page": "docs/" + self.doc_path,
            "docs_url": self.docs_url,
            "ray_url": self.ray_url,
            "dropped_by_ray": self.dropped_by_ray,
        }


def _with_page(check: Check, slug: str) -> Check:
    if check.page and check.page != slug:
        raise ValueError(f"check {check.code} is listed under {slug} and {check.page}")
    return Check(**{**check.__dict__, "page": slug})


def _ray(name: str) -> str:
    return f"{RAY_DOCS}{name}.html"


PAGES: tuple[Page, ...] = (
    # --- basic patterns
    Page(
        "tree-of-actors",
        "Pattern: a supervisor actor that owns a tree of worker actors",
        "basic-patterns",
        _ray("tree-of-actors"),
        exports=("supervise", "Supervisor", "ChildFailedError"),
    ),
    Page(
        "tree-of-tasks",
        "Pattern: nested tasks for nested parallelism (divide and conquer)",
        "basic-patterns",
        _ray("nested-tasks"),
        aliases=("nested-tasks",),
        exports=("divide_and_conquer",),
        checks=(
            Check(
                "RAY304",
                "blocked-workers",
                "Tasks blocked in ray.get on their children pile up worker processes",
                "let children's refs flow to a combine task (ray_patterns.divide_and_conquer)",
                lint=False,
            ),
        ),
    ),
    Page(
        "map-reduce",
        "Pattern: map and (tree) reduce",
        "basic-patterns",
        "https://docs.ray.io/en/latest/ray-core/examples/map_reduce.html",
        exports=("map_reduce", "tree_reduce"),
        dropped_by_ray=True,
    ),
    Page(
        "limit-tasks",
        "Pattern: limit the number of pending tasks (backpressure)",
        "basic-patterns",
        _ray("limit-pending-tasks"),
        aliases=("limit-pending-tasks",),
        exports=("bounded_map",),
        checks=(
            Check(
                "RAY302",
                "unbounded-submission",
                "A loop submits many tasks and keeps every ref without waiting",
                "ray_patterns.bounded_map(fn, items, max_in_flight=...)",
                old_codes=("RPD109",),
            ),
        ),
    ),
    Page(
        "limit-running-tasks",
        "Pattern: limit the number of running tasks by their resources (memory=)",
        "basic-patterns",
        _ray("limit-running-tasks"),
        exports=(
            "memory_map",
            "with_memory",
            "measure_memory",
            "tasks_that_fit",
            "TaskTooLargeError",
        ),
        checks=(
            Check(
                "RAY407",
                "memory-killed-tasks",
                "Tasks killed by Ray's memory monitor or failed out of memory",
                "request memory= per task so only as many run as fit",
                lint=False,
            ),
        ),
    ),
    # --- basic anti-patterns
    Page(
        "global-variables",
        "Anti-pattern: global variables to share state between tasks and actors",
        "basic-anti-patterns",
        _ray("global-variables"),
        exports=("shared_state", "SharedState"),
        checks=(
            Check(
                "RAY101",
                "global-variables",
                "A task or actor reads or changes module state that other processes never see",
                "pass the value as an argument, or keep shared state in an actor",
                old_codes=("RPD101",),
            ),
        ),
    ),
    Page(
        "fine-grained-tasks",
        "Anti-pattern: too fine-grained tasks",
        "basic-anti-patterns",
        _ray("too-fine-grained-tasks"),
        aliases=("too-fine-grained-tasks",),
        exports=("batched_map",),
        checks=(
            Check(
                "RAY102",
                "fine-grained-tasks",
                "Many tasks that each do almost nothing",
                "ray_patterns.batched_map(fn, items): many items per task",
                old_codes=("RPD102",),
            ),
        ),
    ),
    Page(
        "unnecessary-ray-get",
        "Anti-pattern: calling ray.get unnecessarily",
        "basic-anti-patterns",
        _ray("unnecessary-ray-get"),
        plain_ray_fix="pass the ObjectRef itself to the next task",
        checks=(
            Check(
                "RAY103",
                "unnecessary-ray-get",
                "A value fetched with ray.get only to pass it to another task",
                "pass the ObjectRef itself to the next .remote(); call ray.get as late as possible",
                old_codes=("RPD103",),
            ),
        ),
    ),
    Page(
        "closure-capture",
        "Anti-pattern: closure capturing large objects",
        "basic-anti-patterns",
        _ray("closure-capture-large-objects"),
        aliases=("closure-capture-large-objects",),
        plain_ray_fix="ray.put the object and pass the ref, or build it inside the task",
        checks=(
            Check(
                "RAY104",
                "closure-capture",
                "A remote function or class captures a large object from its enclosing scope",
                "ray.put the object and pass the ref, or build it inside the task",
                old_codes=("RPD104",),
            ),
        ),
    ),
    Page(
        "ray-get-loop",
        "Anti-pattern: calling ray.get in a loop",
        "basic-anti-patterns",
        _ray("ray-get-loop"),
        uses=("bounded_map", "iter_results", "as_completed"),
        checks=(
            Check(
                "RAY105",
                "ray-get-loop",
                "ray.get on each task inside the loop that submits them",
                "submit every task first, then one ray.get(refs) (or ray_patterns.as_completed)",
                old_codes=("RPD105",),
            ),
        ),
    ),
    Page(
        "pass-large-arg-by-value",
        "Anti-pattern: passing the same large argument by value repeatedly",
        "basic-anti-patterns",
        _ray("pass-large-arg-by-value"),
        plain_ray_fix="ray.put the value once and pass the ref",
        checks=(
            Check(
                "RAY401",
                "pass-large-arg-by-value",
                "The same large value passed by value to many remote calls",
                "ray.put the value once, before the loop, and pass the ref",
            ),
        ),
    ),
    # --- advanced patterns
    Page(
        "overlapping-computation-communication",
        "Pattern: overlap computation and communication (pipelining)",
        "advanced-patterns",
        _ray("pipelining"),
        aliases=("pipelining",),
        exports=("prefetch", "aprefetch"),
    ),
    Page(
        "fault-tolerance-actor-checkpointing",
        "Pattern: fault-tolerant actors with checkpointing",
        "advanced-patterns",
        "https://docs.ray.io/en/latest/ray-core/fault_tolerance/actors.html",
        exports=("checkpointed", "readonly", "KVStore"),
        dropped_by_ray=True,
    ),
    Page(
        "concurrent-operations-async-actor",
        "Pattern: concurrent operations with an async actor",
        "advanced-patterns",
        _ray("concurrent-operations-async-actor"),
        exports=("PollingActor", "run_blocking"),
        checks=(
            Check(
                "RAY301",
                "blocking-get-in-async",
                "A blocking ray.get or ray.wait inside async code",
                "await the ref (await ref, await asyncio.gather(*refs)), not ray.get/ray.wait",
                old_codes=("RPD110",),
            ),
            Check(
                "RAY303",
                "sync-actor-polling-loop",
                "A synchronous actor method loops forever, so no other method ever runs",
                "make the actor async (ray_patterns.PollingActor) and await inside the loop",
            ),
        ),
    ),
    Page(
        "generators",
        "Pattern: generators to reduce heap memory usage",
        "advanced-patterns",
        _ray("generators"),
        exports=("generate", "with_backpressure"),
        uses=("iter_results", "as_completed"),
        checks=(
            Check(
                "RAY406",
                "return-large-list",
                "A task builds and returns many large objects at once",
                "make the task a generator that yields one object at a time",
            ),
        ),
    ),
    Page(
        "actor-sync",
        "Pattern: an actor to synchronize other tasks and actors",
        "advanced-patterns",
        _ray("actor-sync"),
        exports=("Event", "Barrier", "Semaphore", "SyncActorDiedError"),
        checks=(
            Check(
                "RAY408",
                "actor-busy-wait",
                "A loop polls an actor with ray.get and sleep until a flag flips",
                "wait on a signal actor (an asyncio.Event behind one remote call)",
            ),
        ),
    ),
    # --- advanced anti-patterns
    Page(
        "redefine-task-actor-loop",
        "Anti-pattern: redefining the same remote function or class",
        "advanced-anti-patterns",
        _ray("redefine-task-actor-loop"),
        plain_ray_fix="apply @ray.remote once, at module level",
        checks=(
            Check(
                "RAY201",
                "redefine-task-actor-loop",
                "@ray.remote applied inside a loop re-exports the definition each time",
                "apply @ray.remote once, at module level, outside the loop",
                old_codes=("RPD106",),
            ),
        ),
    ),
    Page(
        "submission-order",
        "Anti-pattern: processing results in submission order using ray.get",
        "advanced-anti-patterns",
        _ray("ray-get-submission-order"),
        aliases=("ray-get-submission-order",),
        exports=("as_completed",),
        checks=(
            Check(
                "RAY202",
                "submission-order",
                "Results fetched one by one in submission order while others have finished",
                "ray_patterns.as_completed(refs): process results as they finish",
                old_codes=("RPD107",),
            ),
        ),
    ),
    Page(
        "too-many-results",
        "Anti-pattern: fetching too many objects at once with ray.get",
        "advanced-anti-patterns",
        _ray("ray-get-too-many-objects"),
        aliases=("ray-get-too-many-objects",),
        exports=("iter_results",),
        checks=(
            Check(
                "RAY203",
                "too-many-results",
                "One ray.get of more results than memory holds",
                "ray_patterns.iter_results(refs, chunk_size=...): fetch in bounded chunks",
                old_codes=("RPD108",),
            ),
        ),
    ),
    Page(
        "return-ray-put",
        "Anti-pattern: returning ray.put() ObjectRefs from a task",
        "advanced-anti-patterns",
        _ray("return-ray-put"),
        plain_ray_fix="return the value itself (num_returns= or a generator for several)",
        checks=(
            Check(
                "RAY402",
                "return-ray-put",
                "A task returns refs it created with ray.put",
                "return the value itself",
            ),
        ),
    ),
    Page(
        "nested-ray-get",
        "Anti-pattern: ray.get inside a task on refs passed in a container",
        "advanced-anti-patterns",
        _ray("nested-ray-get"),
        plain_ray_fix="pass the refs as top-level arguments: f.remote(*refs)",
        checks=(
            Check(
                "RAY403",
                "nested-ray-get",
                "A task calls ray.get on refs it received inside a list or dict",
                "pass the refs as top-level arguments (f.remote(*refs)) so Ray resolves them",
            ),
        ),
    ),
    Page(
        "out-of-band-object-ref-serialization",
        "Anti-pattern: serializing ObjectRefs out of band",
        "advanced-anti-patterns",
        _ray("out-of-band-object-ref-serialization"),
        plain_ray_fix="pass refs as arguments, or keep them in an actor",
        checks=(
            Check(
                "RAY404",
                "out-of-band-object-ref-serialization",
                "An ObjectRef pickled or turned into bytes outside Ray's argument passing",
                "pass the ref as an argument, or keep it in an actor",
            ),
        ),
    ),
    Page(
        "fork-new-processes",
        "Anti-pattern: forking new processes in application code",
        "advanced-anti-patterns",
        _ray("fork-new-processes"),
        plain_ray_fix="start child processes with spawn, or use Ray tasks",
        checks=(
            Check(
                "RAY405",
                "fork-new-processes",
                "os.fork or fork-started multiprocessing in a Ray worker, or a driver after init",
                "use multiprocessing.get_context('spawn'), or Ray tasks",
            ),
        ),
    ),
)


class UnknownName(KeyError):
    """A name that is no page, check, code or alias; the message lists close matches."""

    def __str__(self) -> str:
        return str(self.args[0])


@cache
def _index() -> tuple[dict[str, Page], dict[str, Check]]:
    pages: dict[str, Page] = {}
    checks: dict[str, Check] = {}
    for p in PAGES:
        for name in p.names:
            if name in pages:
                raise ValueError(f"page name {name!r} is used twice")
            pages[name] = p
    for p in PAGES:
        for c in p.checks:
            for key in (c.code.lower(), c.name, *(o.lower() for o in c.old_codes)):
                if key in checks:
                    raise ValueError(f"check name or code {key!r} is used twice")
                checks[key] = c
    return pages, checks


def all_checks() -> tuple[Check, ...]:
    """Every check of every page, sorted by code."""
    return tuple(sorted((c for p in PAGES for c in p.checks), key=lambda c: c.code))


def _unknown(name: str, kind: str) -> UnknownName:
    import difflib

    pages, checks = _index()
    known = [*pages, *(c.name for c in all_checks()), *(c.code for c in all_checks())]
    close = difflib.get_close_matches(name, known, n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else "; see `ray-patterns pages`"
    return UnknownName(f"no {kind} named {name!r}{hint}")


def page(name: str) -> Page:
    """The page with this slug, Ray alias, or check name/code (``RAY105`` -> ray-get-loop)."""
    pages, checks = _index()
    key = name.strip()
    if key in pages:
        return pages[key]
    found = checks.get(key.lower())
    if found is not None:
        return pages[found.page]
    raise _unknown(name, "handbook page")


def check(name: str) -> Check:
    """The check with this code, old code, name, or page name (the page's only check).

    A page name selects its check when the page has exactly one; a pattern page with
    several (or none) raises ``UnknownName`` naming them.
    """
    pages, checks = _index()
    key = name.strip()
    found = checks.get(key.lower())
    if found is not None:
        return found
    if key in pages:
        p = pages[key]
        if len(p.checks) == 1:
            return p.checks[0]
        names = ", ".join(c.name for c in p.checks) or "none"
        raise UnknownName(f"page {p.slug} has {len(p.checks)} checks ({names}): name one")
    raise _unknown(name, "check")


def checks_named(name: str) -> tuple[Check, ...]:
    """Every check a selector names: a code, old code, check name, or page name (all its checks).

    >>> [c.code for c in checks_named("concurrent-operations-async-actor")]
    ['RAY301', 'RAY303']
    """
    pages, checks = _index()
    key = name.strip()
    found = checks.get(key.lower())
    if found is not None:
        return (found,)
    if key in pages:
        return pages[key].checks
    raise _unknown(name, "check or page")


def is_deprecated_code(code: str) -> bool:
    """True for a code kept only as an alias (the doctor's old RPD codes)."""
    return any(code.upper() in c.old_codes for c in all_checks())


def exports() -> dict[str, str]:
    """Public name -> module (relative to ``ray_patterns``), from the pages and shared names."""
    out: dict[str, str] = {}
    for p in PAGES:
        for name in p.exports:
            if name in out:
                raise ValueError(f"{name} is exported by two pages")
            out[name] = p.snake
    out.update(SHARED_EXPORTS)
    return out


def pages_in(group: Group) -> tuple[Page, ...]:
    return tuple(p for p in PAGES if p.group == group)


def references(check: Check) -> list[tuple[str, str]]:
    """(label, URL) of what a check's docs cite: Ray's handbook page, ours, the rule page.

    >>> [label for label, _ in references(check("RAY105"))]
    ["Ray's handbook", 'ray-patterns page', 'rule page']
    """
    p = page(check.page)
    ray_label = (
        "Ray's docs (page dropped from the handbook)" if p.dropped_by_ray else "Ray's handbook"
    )
    return [
        (ray_label, p.ray_url),
        ("ray-patterns page", p.docs_url),
        ("rule page", check.docs_url),
    ]
