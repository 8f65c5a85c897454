"""What the demo organisation looks like: names, the solutions it adopts, its people's words.

Pure (no Flask, no database): ``services.py`` writes what this module plans, and the simulator
(``cxactions.analytics.simulator``) makes the numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from cxactions.analytics.simulator import OTHER_THEME, THEMES, SimulationConfig
from cxactions.foundations.vocabulary import MetricKind

# The challenges (seed/challenges.csv) behind each driver theme of the simulator, best first.
THEME_CHALLENGES: dict[str, tuple[str, ...]] = {
    "wait": ("SPEED-QUEUE", "SPEED-FLOOR", "DG-SELFCHECK"),
    "staff": ("ST-GREET", "ST-ATTITUDE", "ST-KNOW", "ST-FIND", "ST-ONBOARD"),
    "cleanliness": ("EN-CLEAN",),
    "availability": ("PA-STOCK", "PA-FRESH"),
}


@dataclass(frozen=True)
class MetricDefinition:
    code: str
    label: str
    kind: MetricKind
    higher_is_better: bool
    target: float


METRICS = (
    MetricDefinition("overall", "Overall satisfaction", MetricKind.OUTCOME, True, 8.0),
    MetricDefinition("wait_time_rating", "Wait time", MetricKind.DRIVER, True, 7.5),
    MetricDefinition("staff_rating", "Staff welcome and friendliness", MetricKind.DRIVER, True, 8.0),
    MetricDefinition("cleanliness_rating", "Cleanliness", MetricKind.DRIVER, True, 8.0),
    MetricDefinition(
        "product_availability_rating", "Product availability", MetricKind.DRIVER, True, 7.5
    ),
    MetricDefinition("wait_minutes", "Checkout wait (minutes)", MetricKind.OPERATIONAL, False, 5.0),
    MetricDefinition(
        "staff_coverage_pct", "Staff coverage (% of planned hours)", MetricKind.OPERATIONAL,
        True, 100.0,
    ),
    MetricDefinition(
        "cleaning_compliance_pct", "Cleaning checklist compliance (%)", MetricKind.OPERATIONAL,
        True, 95.0,
    ),
    MetricDefinition(
        "stock_availability_pct", "On-shelf availability (%)", MetricKind.OPERATIONAL, True, 97.0
    ),
)  # fmt: skip

# Metrics whose value at a store suggests a challenge: (challenge, metric, higher is worse).
CHALLENGE_SIGNALS = (
    ("SPEED-QUEUE", "wait_time_rating", False),
    ("SPEED-QUEUE", "wait_minutes", True),
    ("ST-GREET", "staff_rating", False),
    ("ST-FIND", "staff_coverage_pct", False),
    ("EN-CLEAN", "cleanliness_rating", False),
    ("EN-CLEAN", "cleaning_compliance_pct", False),
    ("PA-STOCK", "product_availability_rating", False),
    ("PA-STOCK", "stock_availability_pct", False),
)

# A bilingual (Canadian) retailer: regions, then three districts each, then store locations.
REGIONS = ("Québec", "Ontario", "Atlantic", "West")
DISTRICTS: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "Québec": (
        ("Montréal-Centre", ("Plateau-Mont-Royal", "Villeray", "Rosemont", "Verdun", "Outremont",
                             "Griffintown", "Saint-Henri", "Hochelaga", "Côte-des-Neiges",
                             "Mile End")),
        ("Laval et Rive-Nord", ("Laval Centropolis", "Chomedey", "Terrebonne", "Boisbriand",
                                "Sainte-Thérèse", "Repentigny", "Blainville", "Mirabel",
                                "Saint-Jérôme", "Mascouche")),
        ("Québec et Lévis", ("Sainte-Foy", "Limoilou", "Charlesbourg", "Beauport", "Lévis",
                             "Saint-Roch", "Lebourgneuf", "Cap-Rouge", "Val-Bélair",
                             "L'Ancienne-Lorette")),
    ),
    "Ontario": (
        ("Toronto Downtown", ("Queen West", "The Annex", "Liberty Village", "Leslieville",
                              "Yorkville", "Kensington Market", "Distillery District", "Danforth",
                              "Roncesvalles", "St. Lawrence")),
        ("Ottawa Valley", ("ByWard Market", "The Glebe", "Kanata", "Orléans", "Barrhaven",
                           "Westboro", "Gatineau Plateau", "Nepean", "Hull", "Stittsville")),
        ("Golden Horseshoe", ("Hamilton Centre", "Burlington", "Oakville", "Square One",
                              "Brampton", "St. Catharines", "Niagara Falls", "Milton",
                              "Ancaster", "Grimsby")),
    ),
    "Atlantic": (
        ("Halifax", ("Spring Garden", "Dartmouth Crossing", "Bedford", "Clayton Park",
                     "Quinpool", "Sackville", "Cole Harbour", "Bayers Lake", "Tantallon",
                     "Fall River")),
        ("Moncton et Saint John", ("Moncton Champlain", "Dieppe", "Riverview",
                                   "Saint John Uptown", "Fredericton", "Shediac", "Rothesay",
                                   "Quispamsis", "Bathurst", "Edmundston")),
        ("St. John's", ("Water Street", "Avalon Mall", "Mount Pearl", "Paradise", "Torbay",
                        "Kelligrews", "Conception Bay South", "Stavanger Drive",
                        "Churchill Square", "Portugal Cove")),
    ),
    "West": (
        ("Vancouver", ("Kitsilano", "Gastown", "Commercial Drive", "Metrotown", "Richmond",
                       "North Vancouver", "Kerrisdale", "Mount Pleasant", "Yaletown",
                       "Coquitlam")),
        ("Calgary", ("Beltline", "Inglewood", "Chinook", "Crowfoot", "Marda Loop",
                     "Bridgeland", "Signal Hill", "Seton", "Mission", "Kensington Road")),
        ("Edmonton", ("Whyte Avenue", "Oliver", "West Edmonton", "Summerside", "Sherwood Park",
                      "St. Albert", "Windermere", "Highlands", "Mill Woods", "Downtown")),
    ),
}  # fmt: skip
# Share of French comments per region, in REGIONS order.
FRENCH_SHARE = (0.85, 0.15, 0.35, 0.05)


def organisation_shape(stores: int) -> tuple[int, int]:
    """Regions and districts for ``stores`` stores: about ten stores a district, three a region."""
    districts = max(1, min(stores, round(stores / 10)))
    regions = max(1, min(len(REGIONS), round(districts / 3)))
    return regions, max(districts, regions)


def name_units(kinds: list[str], parents: list[str | None], codes: list[str]) -> list[str]:
    """Realistic names for the simulator's unit tree, in its order (regions, districts, stores)."""
    names: dict[str, str] = {}
    region_index: dict[str, int] = {}
    district_slot: dict[str, tuple[str, tuple[str, ...]]] = {}
    used_per_region: dict[int, int] = {}
    used_per_district: dict[str, int] = {}
    taken: dict[str, int] = {}
    for code, kind, parent in zip(codes, kinds, parents, strict=True):
        if kind == "region":
            index = len(region_index)
            region_index[code] = index
            names[code] = REGIONS[index % len(REGIONS)]
        elif kind == "district":
            region = region_index[parent]
            choices = DISTRICTS[REGIONS[region % len(REGIONS)]]
            nth = used_per_region.get(region, 0)
            used_per_region[region] = nth + 1
            district_name, neighbourhoods = choices[nth % len(choices)]
            district_slot[code] = (district_name, neighbourhoods)
            names[code] = district_name
        else:
            _, neighbourhoods = district_slot[parent]
            nth = used_per_district.get(parent, 0)
            used_per_district[parent] = nth + 1
            names[code] = neighbourhoods[nth % len(neighbourhoods)]
        # Big networks reuse names: number the repeats so every unit stays recognisable.
        seen = taken.get(names[code], 0)
        taken[names[code]] = seen + 1
        if seen:
            names[code] = f"{names[code]} {seen + 1}"
    return [names[code] for code in codes]


@dataclass(frozen=True)
class LibraryChoice:
    """A library solution the simulated stores adopt, with the theme and challenge it serves."""

    code: str
    theme: str
    challenge: str | None


def theme_of(challenge_codes: tuple[str, ...]) -> tuple[str, str | None]:
    """The simulator theme a solution serves and the challenge its adoptions address."""
    for code in challenge_codes:
        for theme, codes in THEME_CHALLENGES.items():
            if code in codes:
                return theme, code
    return OTHER_THEME, challenge_codes[0] if challenge_codes else None


def choose_library(
    available: list[tuple[str, tuple[str, ...]]], stores: int, rng: np.random.Generator
) -> list[LibraryChoice]:
    """Pick the approved solutions the demo stores adopt: about one per four stores, every
    theme represented in turn so each driver has fixes that work and fixes that do not."""
    wanted = max(6, min(40, stores // 4))
    pools: dict[str, list[LibraryChoice]] = {theme: [] for theme in (*THEMES, OTHER_THEME)}
    for code, challenges in sorted(available):
        theme, challenge = theme_of(challenges)
        pools[theme].append(LibraryChoice(code, theme, challenge))
    for pool in pools.values():
        order = rng.permutation(len(pool))
        pool[:] = [pool[i] for i in order]
    chosen: list[LibraryChoice] = []
    while len(chosen) < wanted and any(pools.values()):
        for theme in (*THEMES, OTHER_THEME):
            if pools[theme] and len(chosen) < wanted:
                chosen.append(pools[theme].pop())
    return chosen


def last_full_week(today: date) -> date:
    """The Monday of last week: the demo's history ends with the last complete week."""
    return today - timedelta(days=today.weekday() + 7)


def simulation_config(
    stores: int, weeks: int, seed: int, end_week: date, library: list[LibraryChoice]
) -> SimulationConfig:
    """The simulator settings for a demo of ``stores`` stores over ``weeks`` weeks."""
    regions, districts = organisation_shape(stores)
    return SimulationConfig(
        seed=seed,
        n_units=stores,
        n_regions=regions,
        n_districts=districts,
        n_weeks=weeks,
        start=end_week - timedelta(weeks=weeks - 1),
        solution_themes=tuple(choice.theme for choice in library),
        solution_challenges=tuple(choice.challenge or "" for choice in library),
        burn_in_weeks=min(12, max(5, weeks // 3)),
        in_progress_weeks=min(8, max(2, weeks // 6)),
        french_share_by_region=FRENCH_SHARE,
    )


# --------------------------------------------------------------------------------------------
# People and their words.

ROLE_ACCOUNTS = (
    ("staff", "staff@demo.cxactions", "Sam Staff"),
    ("manager", "manager@demo.cxactions", "Maya Manager"),
    ("cx_lead", "lead@demo.cxactions", "Lee CX Lead"),
    ("admin", "admin@demo.cxactions", "Ada Admin"),
)
COLLEAGUES = (
    ("camille.roy@demo.cxactions", "Camille Roy"),
    ("jordan.singh@demo.cxactions", "Jordan Singh"),
    ("emilie.gagnon@demo.cxactions", "Émilie Gagnon"),
    ("marcus.chen@demo.cxactions", "Marcus Chen"),
    ("sofia.martin@demo.cxactions", "Sofia Martin"),
    ("olivier.bouchard@demo.cxactions", "Olivier Bouchard"),
)
PLAN_OWNERS = (
    "Store manager", "Assistant store manager", "Front-end supervisor", "Customer service lead",
    "Responsable de magasin", "Chef de caisse", "Responsable de rayon", "Operations lead",
)  # fmt: skip
PLAN_NOTES = {
    ("implemented", "en"): (
        "Rolled out to every shift; briefed at the Monday huddle.",
        "Live since the start date. Checking the comments every Friday.",
        "Done. The team likes it; keep an eye on the weekend shift.",
    ),
    ("implemented", "fr"): (
        "Mis en place avec toute l'équipe, point chaque lundi.",
        "En place depuis la date d'effet ; suivi des commentaires chaque vendredi.",
    ),
    ("in_progress", "en"): (
        "Day shift trained; evening shift next week.",
        "Materials arrived, rollout under way.",
    ),
    ("in_progress", "fr"): (
        "Équipe du matin formée, équipe du soir la semaine prochaine.",
        "Matériel reçu, déploiement en cours.",
    ),
    ("planned", "en"): (
        "Waiting for the materials from head office.",
        "Starts after the inventory count.",
    ),
    ("planned", "fr"): ("En attente du matériel du siège.", "Démarrage après l'inventaire."),
    ("abandoned", "en"): (
        "Stopped: not enough staff to keep it going.",
        "Dropped after two weeks, the team found it too heavy.",
    ),
    ("abandoned", "fr"): ("Abandonné : pas assez de personnel pour le tenir.",),
}

# Solutions staff submitted, waiting in the moderation queue.
PENDING_SOLUTIONS = (
    {
        "code": "CROWD-BASKET-CHAIRS",
        "title": "A chair and a basket stand by the fitting-room queue",
        "kind": "asset",
        "language": "en",
        "challenges": ("SPEED-QUEUE", "EN-COMFORT"),
        "summary": "Older customers give up when the queue is long and there is nowhere to sit. "
        "Two chairs and a basket stand near the tills made a difference at our store.",
        "steps": ("Put two stacking chairs at the end of the checkout lane.",
                  "Add a stand where customers can rest their basket.",
                  "Ask the front-end supervisor to check them at each shift change."),
    },
    {
        "code": "CROWD-SOURIRE-PREMIERE-MINUTE",
        "title": "La règle de la première minute à l'ouverture",
        "kind": "training",
        "language": "fr",
        "challenges": ("ST-GREET",),
        "summary": "Pendant la première heure, chaque client qui entre est salué dans la minute "
        "par la personne la plus proche, même occupée.",
        "steps": ("Expliquer la règle au briefing du matin.",
                  "Désigner un « hôte » à l'entrée pendant l'heure d'ouverture.",
                  "Faire un point en fin de semaine sur les commentaires « accueil »."),
    },
    {
        "code": "CROWD-GAP-WALK",
        "title": "Ten-minute gap walk before the lunch rush",
        "kind": "sop",
        "language": "en",
        "challenges": ("PA-STOCK",),
        "summary": "At 11:15 one associate walks the top 40 lines with a scanner and fills "
        "the gaps from the back before the lunch crowd arrives.",
        "steps": ("Print the list of the 40 best sellers.",
                  "Walk the list at 11:15 with a scanner.",
                  "Fill from the back or flag to the manager before 11:30."),
    },
    {
        "code": "CROWD-TOILETTES-QR",
        "title": "Un QR code dans les toilettes pour signaler un problème",
        "kind": "other",
        "language": "fr",
        "challenges": ("EN-CLEAN",),
        "summary": "Les clients scannent un QR code pour signaler des toilettes sales ; "
        "l'alerte arrive sur le téléphone du responsable de rayon.",
        "steps": ("Créer un formulaire court (toilettes, propreté, papier, savon).",
                  "Coller le QR code à l'intérieur de la porte.",
                  "Répondre à chaque alerte en moins de 15 minutes."),
    },
)  # fmt: skip

SOLUTION_COMMENTS = {
    "comment": (
        "We tried a lighter version of this at our store, worth a look.",
        "Does this need head office approval, or can a store manager start it?",
        "Simple and cheap. I like that the steps fit on one page.",
        "Bonne idée, mais il faut du monde le samedi pour que ça tienne.",
        "Est-ce qu'il existe une version pour les petits magasins ?",
        "The French version of the poster would help in Québec stores.",
    ),
    "tried_it": (
        "Tried it for six weeks: fewer complaints in the comments, the team kept it.",
        "We did this in spring. Scores went up, but it was also the season, so hard to say.",
        "Mis en place en octobre : les clients le remarquent, l'équipe aussi.",
        "Tried it, dropped it: too much effort on busy days.",
        "Testé pendant un mois, résultats mitigés, on continue quand même.",
    ),
}
# How each "we tried it" text above says it went.
TRIED_OUTCOMES = ("worked", "mixed", "worked", "did_not_work", "mixed")
