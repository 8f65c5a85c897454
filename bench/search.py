"""Benchmark: library search at 20,000 solutions (English and French), with SQLite FTS5 as a floor.

1. An app in a temporary instance folder (SQLite, ``SEARCH_SYNC="off"``): the schema by the
   migrations (``flask_migrate.upgrade``), the 52 seed challenges (``seed/challenges.csv``) and N
   generated solutions bulk-inserted with SQLAlchemy core: half English, half French, 100-160
   words of CX text per body from seeded templates, titles of 5-10 words, four kinds, 1-3
   challenges each, ~6% not approved (drafts, pending, retired).
2. Timed: ``cxactions.search.service.rebuild_index()`` (a full rebuild, as ``cxactions reindex``),
   then the first search (the index opened cold).
3. 500 queries, deterministic: 200 English (80 single words, 120 of 2-4 words), 150 French
   (elisions such as "l'accueil", "files d'attente"), 100 with a typo (a letter dropped, swapped
   or doubled, never the first), 50 filtered by kind. 20 warm-up queries, then each
   ``search(query, SearchOptions(kind=..., per_page=10))`` plus ``as_dict()`` and
   ``json.dumps`` (what ``cxactions search --format json`` prints) is timed with
   ``perf_counter``, in one app context, one thread. Then the same queries as the search page
   asks them: facets only, snippets only, and both (the page's call).
4. The floor: an in-memory SQLite FTS5 table (``porter unicode61 remove_diacritics 2``) of the
   same visible documents (title; body = summary, body, steps and challenge names, as indexed),
   a ``kind`` column for the filter; every query's words quoted and ANDed, ORed when AND finds
   nothing; top 10 by ``bm25`` with the title weighted 3 (the index's ``TITLE_BOOST``).
5. Edits: ``SEARCH_SYNC="inline"``; 20 times a solution's title gains a new word through the
   ORM and is committed; timed from just before the commit until ``search(word)`` returns it.

The generated corpus is let go before the timings (the searching process holds what a
``cxactions`` process holds); the rebuild and the search pass wait for a quiet second first, and
every timed pass records the CPU time other processes used meanwhile (``/proc/stat``).

    python bench/search.py                                     # 20,000 solutions, RESULTS.md
    python bench/search.py --solutions 2000 --queries 100 --no-write   # quick
    python bench/search.py --profile                           # also cProfile the slowest

Nothing is written in the repository except the ``## Search`` section of ``bench/RESULTS.md``
(not with ``--no-write``); the temporary folder is removed at the end.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import gc
import io
import json
import os
import platform
import pstats
import random
import re
import resource
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import numpy as np
from results_file import write_section  # noqa: E402  (bench/ is the script's folder)

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

HEADING = "## Search"
SEED_CHALLENGES = ROOT / "seed" / "challenges.csv"
STAMP = dt.datetime(2024, 1, 1)
KINDS = (("training", 0.35), ("sop", 0.30), ("asset", 0.20), ("other", 0.15))
STATUSES = (("approved", 0.94), ("draft", 0.03), ("pending", 0.01), ("retired", 0.02))
MIX = {"en-word": 80, "en-multi": 120, "fr": 150, "typo": 100, "filtered": 50}  # of 500
CATEGORY_LABELS = {
    "en-word": "English, one word",
    "en-multi": "English, 2-4 words",
    "fr": "French",
    "typo": "with a typo",
    "filtered": "filtered by kind",
}
TARGET_P95_MS = 50.0
TARGET_REBUILD_S = 60.0
TARGET_EDIT_S = 1.0
WARM_UP = 20
EDITS = 20

# --------------------------------------------------------------------------------------------
# Vocabulary. Each theme: English nouns, French nouns (with their article, so that elisions
# and contractions come out as in real text), the challenges it addresses, and single words and
# phrases people type.


@dataclass(frozen=True)
class Theme:
    challenges: tuple[str, ...]
    en: tuple[str, ...]
    fr: tuple[str, ...]
    en_words: tuple[str, ...]
    fr_queries: tuple[str, ...]


THEMES = {
    "queue": Theme(
        ("SPEED-QUEUE", "DG-SELFCHECK"),
        (
            "queue",
            "checkout",
            "till",
            "cashier",
            "express lane",
            "waiting time",
            "self-checkout",
            "queue length",
            "peak hours",
            "back-up till",
        ),
        (
            "la file d'attente",
            "les files d'attente",
            "la caisse",
            "l'attente",
            "le caissier",
            "la caisse express",
            "le temps d'attente",
            "la caisse automatique",
            "l'heure de pointe",
            "l'ouverture des caisses",
        ),
        ("queue", "queues", "checkout", "cashier", "till", "waiting", "self-checkout"),
        (
            "files d'attente",
            "file d'attente",
            "l'attente",
            "caisse",
            "temps d'attente en caisse",
            "caisse automatique",
            "l'ouverture des caisses",
        ),
    ),
    "phone": Theme(
        ("SPEED-HOLD", "ST-PHONE"),
        (
            "phone",
            "hold time",
            "call",
            "callback",
            "hotline",
            "call transfer",
            "voicemail",
            "call centre",
            "phone script",
            "switchboard",
        ),
        (
            "le téléphone",
            "l'attente téléphonique",
            "l'appel",
            "le rappel",
            "le standard",
            "le transfert d'appel",
            "la messagerie",
            "le centre d'appels",
            "le script d'appel",
            "l'accueil téléphonique",
        ),
        ("phone", "hold", "callback", "calls", "voicemail", "hotline", "switchboard"),
        (
            "attente téléphonique",
            "l'accueil téléphonique",
            "rappel",
            "centre d'appels",
            "téléphone",
            "transfert d'appel",
        ),
    ),
    "online": Theme(
        ("SPEED-ONLINE", "SPEED-TICKETS", "FB-FRICTION"),
        (
            "online review",
            "reply",
            "email",
            "social media",
            "complaint",
            "inbox",
            "ticket",
            "reply template",
            "star rating",
            "web form",
        ),
        (
            "l'avis en ligne",
            "la réponse",
            "le courriel",
            "les réseaux sociaux",
            "la réclamation",
            "la boîte de réception",
            "le ticket",
            "le modèle de réponse",
            "la note",
            "le formulaire web",
        ),
        ("review", "reviews", "email", "inbox", "complaint", "ticket", "rating"),
        (
            "avis en ligne",
            "réseaux sociaux",
            "courriel",
            "l'arriéré de courriels",
            "réclamation",
            "modèle de réponse",
        ),
    ),
    "delivery": Theme(
        ("SPEED-DELIVERY", "PA-ORDERS", "PA-ONLINE-STOCK"),
        (
            "delivery",
            "parcel",
            "click and collect",
            "order",
            "tracking",
            "courier",
            "collection point",
            "delivery slot",
            "pick list",
            "special order",
        ),
        (
            "la livraison",
            "le colis",
            "le retrait en magasin",
            "la commande",
            "le suivi",
            "le transporteur",
            "le point de retrait",
            "le délai de livraison",
            "le créneau",
            "la préparation de commande",
        ),
        ("delivery", "parcel", "courier", "tracking", "orders", "collect"),
        (
            "livraison",
            "délai de livraison",
            "retrait en magasin",
            "colis",
            "préparation de commande",
            "l'enlèvement du colis",
        ),
    ),
    "greeting": Theme(
        ("ST-GREET", "ST-ATTITUDE", "ST-FIND", "SPEED-FLOOR"),
        (
            "greeting",
            "welcome",
            "smile",
            "eye contact",
            "attitude",
            "courtesy",
            "staff",
            "entrance",
            "floor walk",
            "name badge",
        ),
        (
            "l'accueil",
            "le sourire",
            "le bonjour",
            "le regard",
            "l'attitude",
            "la courtoisie",
            "le personnel",
            "l'entrée",
            "la tournée en rayon",
            "le badge",
        ),
        ("greeting", "welcome", "smile", "courtesy", "attitude", "staff", "friendly"),
        (
            "l'accueil",
            "accueil des clients",
            "sourire",
            "l'attitude du personnel",
            "courtoisie",
            "l'entrée du magasin",
        ),
    ),
    "training": Theme(
        ("ST-KNOW", "ST-ONBOARD", "ST-LANGUAGE"),
        (
            "training",
            "onboarding",
            "product knowledge",
            "coaching",
            "buddy",
            "e-learning",
            "quiz",
            "induction",
            "shadowing",
            "language course",
        ),
        (
            "la formation",
            "l'intégration",
            "la connaissance produit",
            "le coaching",
            "le tuteur",
            "l'e-learning",
            "le quiz",
            "l'accueil des nouveaux",
            "le binôme",
            "le cours de langue",
        ),
        ("training", "onboarding", "coaching", "induction", "knowledge", "shadowing", "quiz"),
        (
            "formation",
            "formation du personnel",
            "l'intégration des nouveaux",
            "connaissance produit",
            "tutorat",
            "l'e-learning",
        ),
    ),
    "resolution": Theme(
        ("RES-PATH", "RES-EMPOWER", "RES-REPEAT", "RES-FOLLOWUP", "RES-RETURNS", "RES-ESCALATE"),
        (
            "refund",
            "return",
            "receipt",
            "complaint",
            "escalation",
            "follow-up call",
            "apology",
            "voucher",
            "goodwill gesture",
            "refund limit",
        ),
        (
            "le remboursement",
            "le retour",
            "le ticket de caisse",
            "la réclamation",
            "l'escalade",
            "l'appel de suivi",
            "l'excuse",
            "le bon d'achat",
            "le geste commercial",
            "le plafond de remboursement",
        ),
        ("refund", "refunds", "returns", "receipt", "escalation", "apology", "voucher"),
        (
            "remboursement",
            "geste commercial",
            "l'escalade",
            "retour produit",
            "bon d'achat",
            "l'appel de suivi",
        ),
    ),
    "clean": Theme(
        ("EN-CLEAN", "EN-COMFORT", "EN-EQUIP"),
        (
            "cleanliness",
            "restroom",
            "toilet",
            "cleaning rota",
            "spill",
            "temperature",
            "lighting",
            "trolley",
            "broken equipment",
            "maintenance",
        ),
        (
            "la propreté",
            "les toilettes",
            "le planning de nettoyage",
            "la salissure",
            "la température",
            "l'éclairage",
            "le chariot",
            "l'équipement en panne",
            "la maintenance",
            "l'hygiène",
        ),
        ("cleanliness", "restroom", "toilets", "cleaning", "spill", "lighting", "trolleys"),
        (
            "propreté",
            "propreté des toilettes",
            "nettoyage",
            "l'hygiène",
            "l'éclairage",
            "chariots",
        ),
    ),
    "wayfinding": Theme(
        ("EN-WAYFIND", "EN-ACCESS"),
        (
            "signage",
            "aisle",
            "store map",
            "wayfinding",
            "ramp",
            "wheelchair",
            "accessibility",
            "lift",
            "shelf label",
            "store layout",
        ),
        (
            "la signalétique",
            "l'allée",
            "le plan du magasin",
            "l'orientation",
            "la rampe",
            "le fauteuil roulant",
            "l'accessibilité",
            "l'ascenseur",
            "l'étiquette de rayon",
            "l'implantation",
        ),
        ("signage", "aisle", "wayfinding", "wheelchair", "accessibility", "layout", "map"),
        (
            "signalétique",
            "l'accessibilité",
            "plan du magasin",
            "fauteuil roulant",
            "l'orientation en magasin",
            "allées",
        ),
    ),
    "stock": Theme(
        ("PA-STOCK", "PA-FRESH"),
        (
            "stock",
            "out of stock",
            "replenishment",
            "shelf gap",
            "freshness",
            "expiry date",
            "produce",
            "backroom",
            "inventory",
            "supplier",
        ),
        (
            "le stock",
            "la rupture de stock",
            "le réassort",
            "le trou en rayon",
            "la fraîcheur",
            "la date limite",
            "les fruits et légumes",
            "la réserve",
            "l'inventaire",
            "le fournisseur",
        ),
        ("stock", "replenishment", "freshness", "expiry", "inventory", "supplier", "shelves"),
        (
            "rupture de stock",
            "ruptures",
            "réassort",
            "fraîcheur",
            "l'inventaire",
            "date limite",
        ),
    ),
    "price": Theme(
        ("PV-ERRORS", "PV-PROMO", "PV-VALUE", "PV-BILLING"),
        (
            "price",
            "price tag",
            "promotion",
            "discount",
            "loyalty card",
            "billing",
            "invoice",
            "surcharge",
            "value for money",
            "price check",
        ),
        (
            "le prix",
            "l'étiquette de prix",
            "la promotion",
            "la remise",
            "la carte de fidélité",
            "la facturation",
            "la facture",
            "les frais",
            "le rapport qualité-prix",
            "le contrôle des prix",
        ),
        ("price", "prices", "promotion", "discount", "loyalty", "billing", "invoice"),
        (
            "étiquette de prix",
            "l'étiquetage",
            "promotion",
            "carte de fidélité",
            "erreur de facturation",
            "prix",
        ),
    ),
    "digital": Theme(
        ("DG-CHECKOUT", "PR-OMNI"),
        (
            "app",
            "website",
            "payment",
            "checkout page",
            "password",
            "account",
            "error message",
            "crash",
            "basket",
            "notification",
        ),
        (
            "l'application",
            "le site",
            "le paiement",
            "la page de paiement",
            "le mot de passe",
            "le compte",
            "le message d'erreur",
            "le bug",
            "le panier",
            "la notification",
        ),
        ("app", "website", "payment", "password", "account", "crash", "notification"),
        (
            "l'application",
            "paiement en ligne",
            "mot de passe",
            "message d'erreur",
            "panier",
            "site web",
        ),
    ),
    "feedback": Theme(
        (
            "FB-RESPONSE",
            "FB-LOOP",
            "FB-HONESTY",
            "FB-BASELINE",
            "PR-GAP",
            "PR-JOURNEY",
            "PR-POLICY",
        ),
        (
            "survey",
            "score",
            "journey map",
            "policy",
            "brand promise",
            "mystery shopper",
            "huddle",
            "dashboard",
            "baseline",
            "action plan",
        ),
        (
            "l'enquête",
            "le score",
            "le parcours client",
            "la politique",
            "la promesse de marque",
            "le client mystère",
            "le brief",
            "le tableau de bord",
            "la référence",
            "le plan d'action",
        ),
        ("survey", "feedback", "dashboard", "policy", "huddle", "baseline", "journey"),
        (
            "l'enquête de satisfaction",
            "parcours client",
            "client mystère",
            "tableau de bord",
            "plan d'action",
            "retours clients",
        ),
    ),
}
ABSENT_EN = ("pharmacy", "warranty", "drone", "blockchain", "franchise")

EN_ROLES = (
    "store manager",
    "team leader",
    "cashier",
    "supervisor",
    "shift lead",
    "customer service agent",
    "regional manager",
    "sales associate",
    "department head",
    "duty manager",
)
EN_TIMES = (
    "every morning",
    "at the start of each shift",
    "during peak hours",
    "on Saturdays",
    "once a week",
    "before opening",
    "after closing",
    "at the weekly huddle",
    "every two hours",
    "at month end",
)
EN_MEASURES = (
    "waiting time",
    "satisfaction score",
    "complaint rate",
    "net promoter score",
    "first contact resolution",
    "response time",
    "conversion rate",
    "number of repeat visits",
    "share of negative comments",
    "abandonment rate",
)
EN_REACTIONS = (
    "leave without buying",
    "complain online",
    "ask for a manager",
    "give a low score",
    "call again",
    "stop coming back",
)
EN_PROBLEMS = ("slow", "unclear", "inconsistent", "neglected", "confusing", "forgotten")
EN_VERBS = ("check", "review", "record", "share", "measure", "plan", "display", "explain", "fix")
EN_SENTENCES = (
    "The {role} checks the {n} {time} and writes down what needs fixing.",
    "When the {n} is {problem}, customers {reaction}.",
    "Agree one simple rule for the {n} and the {n2}, and display it in the staff room.",
    "Track the {measure} {time} and compare it with the previous month.",
    "One {role} owns the {n} and reviews it with the team {time}.",
    "Train every new {role} on the {n} during the first week.",
    "Most complaints about the {n} arrive {time}, when the {n2} is under pressure.",
    "Use a short checklist: {n}, {n2} and {n3}.",
    "If the {measure} does not improve after six weeks, review the {n} with the {role}.",
    "Customers notice the {n} before anything else in the store.",
    "Ask the {role} to {verb} the {n} and to {verb2} the {n2}.",
    "Record every problem with the {n} in the shared log, with the date and the store.",
    "A {problem} {n} costs more than it seems: customers {reaction}.",
    "Start small: one store, one {n}, four weeks, then compare the {measure}.",
)
EN_TITLES = (
    "A daily {n} check before opening",
    "Cut the {n} with a {n2} routine",
    "{N} refresher sessions for every new {role}",
    "How to handle the {n} during peak hours",
    "A weekly review of the {n} and {n2}",
    "Make the {n} visible to every {role}",
    "Fix the {n} before customers notice it",
    "A simple {n} standard for every store",
)
FR_ROLES = (
    "directeur du magasin",
    "chef d'équipe",
    "caissier",
    "superviseur",
    "responsable de rayon",
    "conseiller client",
    "directeur régional",
    "vendeur",
    "manager de permanence",
    "coordinateur qualité",
)
FR_TIMES = (
    "chaque matin",
    "au début de chaque service",
    "aux heures de pointe",
    "le samedi",
    "une fois par semaine",
    "avant l'ouverture",
    "après la fermeture",
    "lors du brief hebdomadaire",
    "toutes les deux heures",
    "en fin de mois",
)
FR_MEASURES = (
    "le temps d'attente",
    "le score de satisfaction",
    "le taux de réclamation",
    "le NPS",
    "la résolution au premier contact",
    "le délai de réponse",
    "le taux de transformation",
    "le nombre de visites répétées",
    "la part de commentaires négatifs",
    "le taux d'abandon",
)
FR_REACTIONS = (
    "repartent sans acheter",
    "se plaignent en ligne",
    "demandent un responsable",
    "donnent une mauvaise note",
    "rappellent plusieurs fois",
    "ne reviennent plus",
)
FR_VERBS = ("vérifier", "revoir", "noter", "partager", "mesurer", "corriger", "suivre")
FR_SENTENCES = (
    "Le {role} vérifie {n} {time} et note ce qu'il faut corriger.",
    "Quand {n} pose problème, les clients {reaction}.",
    "Fixer une règle simple pour {n} et {n2}, et l'afficher en salle de pause.",
    "Suivre {measure} {time} et le comparer au mois précédent.",
    "Un {role} prend en charge {n} et fait le point avec l'équipe {time}.",
    "Former chaque nouveau collaborateur sur {n} dès la première semaine.",
    "La plupart des plaintes sur {n} arrivent {time}, quand {n2} est sous tension.",
    "Utiliser une courte liste de contrôle : {n}, {n2} et {n3}.",
    "Si {measure} ne s'améliore pas après six semaines, revoir {n} avec le {role}.",
    "Les clients remarquent {n} avant tout le reste en magasin.",
    "Demander au {role} de {verb} {n} et de {verb2} {n2}.",
    "Noter chaque problème {de_n} dans le registre partagé, avec la date et le magasin.",
    "Le coût {de_n} mal tenu est plus élevé qu'il n'y paraît : les clients {reaction}.",
    "Commencer petit : un magasin, quatre semaines, puis comparer {measure}.",
)
FR_TITLES = (
    "Un contrôle quotidien {de_n} avant l'ouverture",
    "Réduire {n} grâce à une routine simple",
    "Une formation sur {n} pour chaque nouveau {role}",
    "Gérer {n} aux heures de pointe",
    "Un point hebdomadaire sur {n} et {n2}",
    "Rendre {n} visible pour toute l'équipe",
    "Corriger {n} avant que les clients le remarquent",
    "Une norme simple pour {n} en magasin",
)


def de(noun: str) -> str:
    """French "de" before a noun with its article: du stock, des frais, de la caisse, de l'accueil."""
    if noun.startswith("le "):
        return "du " + noun[3:]
    if noun.startswith("les "):
        return "des " + noun[4:]
    return "de " + noun


def bare(noun: str) -> str:
    """A French noun without its article ("l'accueil" keeps its elision half the time)."""
    for article in ("le ", "la ", "les "):
        if noun.startswith(article):
            return noun[len(article) :]
    return noun


# --------------------------------------------------------------------------------------------
# Documents.


@dataclass
class Corpus:
    challenges: list[dict]
    solutions: list[dict]
    links: list[dict]  # solution_challenges rows
    challenge_names: dict[int, str]
    challenge_root: dict[int, int]


def read_challenges() -> list[dict]:
    from cxactions.library.seed import read_seed_challenges

    rows = read_seed_challenges(SEED_CHALLENGES)
    ids = {row.code: number + 1 for number, row in enumerate(rows)}
    return [
        {
            "id": ids[row.code],
            "code": row.code,
            "name": row.name,
            "description": row.description,
            "parent_id": ids.get(row.parent_code) if row.parent_code else None,
            "status": "active",
            "keywords": row.keywords,
            "position": row.position,
            "created_at": STAMP,
            "updated_at": STAMP,
        }
        for row in rows
    ]


def pick(rng: random.Random, weighted: tuple[tuple[str, float], ...]) -> str:
    return rng.choices([value for value, _ in weighted], [weight for _, weight in weighted])[0]


def nouns(rng: random.Random, theme: Theme, language: str, count: int) -> list[str]:
    """``count`` distinct nouns, each from the theme three times in four, else from any theme."""
    found: list[str] = []
    while len(found) < count:
        source = theme if rng.random() < 0.75 else rng.choice(list(THEMES.values()))
        noun = rng.choice(source.en if language == "en" else source.fr)
        if noun not in found:
            found.append(noun)
    return found


def sentence(rng: random.Random, theme: Theme, language: str, template: str) -> str:
    n, n2, n3 = nouns(rng, theme, language, 3)
    if language == "en":
        values = {
            "n": n,
            "n2": n2,
            "n3": n3,
            "N": n[:1].upper() + n[1:],
            "role": rng.choice(EN_ROLES),
            "time": rng.choice(EN_TIMES),
            "measure": rng.choice(EN_MEASURES),
            "reaction": rng.choice(EN_REACTIONS),
            "problem": rng.choice(EN_PROBLEMS),
            "verb": rng.choice(EN_VERBS),
            "verb2": rng.choice(EN_VERBS),
        }
    else:
        values = {
            "n": n,
            "n2": n2,
            "n3": n3,
            "de_n": de(n),
            "role": rng.choice(FR_ROLES),
            "time": rng.choice(FR_TIMES),
            "measure": rng.choice(FR_MEASURES),
            "reaction": rng.choice(FR_REACTIONS),
            "verb": rng.choice(FR_VERBS),
            "verb2": rng.choice(FR_VERBS),
        }
    text = template.format(**values)
    return text[:1].upper() + text[1:]


def generate(count: int, seed: int) -> Corpus:
    rng = random.Random(seed)
    challenges = read_challenges()
    by_code = {row["code"]: row["id"] for row in challenges}
    parents = {row["parent_id"] for row in challenges if row["parent_id"]}
    leaves = [row["id"] for row in challenges if row["id"] not in parents]
    theme_names = list(THEMES)
    solutions, links = [], []
    for number in range(count):
        solution_id = number + 1
        language = "en" if number % 2 == 0 else "fr"
        theme = THEMES[rng.choice(theme_names)]
        sentences = EN_SENTENCES if language == "en" else FR_SENTENCES
        title = sentence(
            rng, theme, language, rng.choice(EN_TITLES if language == "en" else FR_TITLES)
        )
        summary = sentence(rng, theme, language, rng.choice(sentences))
        target = rng.randint(100, 160)
        body_sentences: list[str] = []
        words = 0
        while words < target:
            text = sentence(rng, theme, language, rng.choice(sentences))
            if words >= 100 and words + len(text.split()) > 160:
                break
            body_sentences.append(text)
            words += len(text.split())
        paragraphs = [
            " ".join(body_sentences[start : start + 4])
            for start in range(0, len(body_sentences), 4)
        ]
        steps = None
        if rng.random() < 0.3:
            steps = "\n".join(
                sentence(rng, theme, language, rng.choice(sentences))
                for _ in range(rng.randint(3, 4))
            )
        solutions.append(
            {
                "id": solution_id,
                "code": f"GEN-{solution_id:06d}",
                "kind": pick(rng, KINDS),
                "title": title,
                "summary": summary,
                "body": "\n\n".join(paragraphs),
                "steps": steps,
                "language": language,
                "status": pick(rng, STATUSES),
                "created_at": STAMP,
                "updated_at": STAMP,
            }
        )
        own = [by_code[code] for code in theme.challenges if code in by_code]
        chosen = {rng.choice(own or leaves)}
        for _ in range(rng.randint(0, 2)):
            chosen.add(rng.choice(own if own and rng.random() < 0.5 else leaves))
        links.extend(
            {"solution_id": solution_id, "challenge_id": challenge_id}
            for challenge_id in sorted(chosen)
        )
    names = {row["id"]: row["name"] for row in challenges}
    parent_of = {row["id"]: row["parent_id"] for row in challenges}
    roots = {}
    for challenge_id in names:
        current = challenge_id
        while parent_of[current]:
            current = parent_of[current]
        roots[challenge_id] = current
    return Corpus(challenges, solutions, links, names, roots)


# --------------------------------------------------------------------------------------------
# Queries.


@dataclass(frozen=True)
class Query:
    text: str
    category: str
    kind: str | None = None


def english_word(rng: random.Random) -> str:
    if rng.random() < 0.04:
        return rng.choice(ABSENT_EN)
    return rng.choice(rng.choice(list(THEMES.values())).en_words)


def english_multi(rng: random.Random) -> str:
    theme = rng.choice(list(THEMES.values()))
    other = rng.choice(list(THEMES.values())) if rng.random() < 0.2 else theme
    size = rng.randint(2, 4)
    words: list[str] = []
    while len(words) < size:
        source = theme if not words or rng.random() < 0.6 else other
        pool = [*source.en, *source.en_words, *(["long", "slow", "new", "weekly"])]
        for word in rng.choice(pool).split():
            if word not in words and len(words) < size:
                words.append(word)
    return " ".join(words)


def french(rng: random.Random) -> str:
    theme = rng.choice(list(THEMES.values()))
    roll = rng.random()
    if roll < 0.45:
        return rng.choice(theme.fr_queries)
    if roll < 0.75:
        noun = rng.choice(theme.fr)
        return noun if noun.startswith("l'") else bare(noun)
    first = bare(rng.choice(theme.fr))
    second = rng.choice(rng.choice(list(THEMES.values())).fr)
    return f"{first} {de(second)}" if rng.random() < 0.5 else f"{first} {bare(second)}"


def typo(rng: random.Random, text: str) -> str:
    """One typing mistake in one word of 4+ letters: a letter dropped, swapped or doubled."""
    words = [match for match in re.finditer(r"\w{4,}", text)]
    if not words:
        return text + "s"
    match = rng.choice(words)
    word = match.group(0)
    position = rng.randint(1, len(word) - 2)
    operation = rng.choice(("drop", "swap", "double"))
    if operation == "drop":
        wrong = word[:position] + word[position + 1 :]
    elif operation == "swap" and word[position] != word[position + 1]:
        wrong = word[:position] + word[position + 1] + word[position] + word[position + 2 :]
    else:
        wrong = word[: position + 1] + word[position] + word[position + 1 :]
    return text[: match.start()] + wrong + text[match.end() :]


def make_queries(total: int, seed: int) -> list[Query]:
    rng = random.Random(seed + 1)
    counts = {name: round(share * total / 500) for name, share in MIX.items()}
    queries = [Query(english_word(rng), "en-word") for _ in range(counts["en-word"])]
    queries += [Query(english_multi(rng), "en-multi") for _ in range(counts["en-multi"])]
    queries += [Query(french(rng), "fr") for _ in range(counts["fr"])]
    for _ in range(counts["typo"]):
        source = rng.choice((english_word, english_multi, french, french))(rng)
        queries.append(Query(typo(rng, source), "typo"))
    kinds = [kind for kind, _ in KINDS]
    for _ in range(counts["filtered"]):
        source = rng.choice((english_word, english_multi, french))(rng)
        queries.append(Query(source, "filtered", rng.choice(kinds)))
    rng.shuffle(queries)
    return queries


def warm_up_queries(seed: int) -> list[Query]:
    rng = random.Random(seed + 2)
    return [
        Query(rng.choice((english_word, english_multi, french))(rng), "warm")
        for _ in range(WARM_UP)
    ]


# --------------------------------------------------------------------------------------------
# Measuring.


def percentiles(values: list[float]) -> dict[str, float]:
    array = np.asarray(values, dtype=float) * 1000.0
    return {
        "p50": float(np.percentile(array, 50)),
        "p95": float(np.percentile(array, 95)),
        "p99": float(np.percentile(array, 99)),
        "max": float(array.max()),
        "mean": float(array.mean()),
    }


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def folder_mb(path: str) -> float:
    return sum(entry.stat().st_size for entry in Path(path).rglob("*") if entry.is_file()) / 1e6


@dataclass
class Timed:
    query: Query
    seconds: float
    total: int
    relaxed: bool
    corrected: bool
    suggestion: str | None


@dataclass
class Results:
    settings: dict = field(default_factory=dict)
    figures: dict = field(default_factory=dict)
    timed: list[Timed] = field(default_factory=list)
    page: dict = field(default_factory=dict)
    fts: dict = field(default_factory=dict)
    edits: list[float] = field(default_factory=list)
    commits: list[float] = field(default_factory=list)
    profile: str = ""


def load(corpus: Corpus) -> float:
    import sqlalchemy as sa

    from cxactions.foundations.extensions import db
    from cxactions.library.models import Solution, solution_challenges
    from cxactions.taxonomy.models import Challenge

    started = time.perf_counter()
    db.session.execute(sa.insert(Challenge.__table__), corpus.challenges)
    for start in range(0, len(corpus.solutions), 5000):
        db.session.execute(sa.insert(Solution.__table__), corpus.solutions[start : start + 5000])
    db.session.execute(sa.insert(solution_challenges), corpus.links)
    db.session.commit()
    return time.perf_counter() - started


def time_searches(queries: list[Query], **extras) -> list[Timed]:
    from cxactions.foundations.extensions import db
    from cxactions.search.service import SearchOptions, search

    timed = []
    for query in queries:
        options = SearchOptions(kind=query.kind, per_page=10)
        started = time.perf_counter()
        result = search(db.session, query.text, options, **extras)
        json.dumps(result.as_dict(), ensure_ascii=False)
        seconds = time.perf_counter() - started
        timed.append(
            Timed(
                query,
                seconds,
                result.total,
                result.relaxed,
                result.corrected,
                result.suggestion,
            )
        )
    return timed


def profile_slowest(timed: list[Timed], repeats: int = 3) -> str:
    from cxactions.foundations.extensions import db
    from cxactions.search.service import SearchOptions, search

    slowest = sorted(timed, key=lambda item: -item.seconds)[:10]
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(repeats):
        for item in slowest:
            search(db.session, item.query.text, SearchOptions(kind=item.query.kind, per_page=10))
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(40)
    return out.getvalue()


def edit_latency(app, visible: list[int], seed: int) -> tuple[list[float], list[float]]:
    """Seconds from just before the commit until a search returns the edited solution."""
    from cxactions.foundations.extensions import db
    from cxactions.library.models import Solution
    from cxactions.search.service import search

    app.config["SEARCH_SYNC"] = "inline"
    rng = random.Random(seed + 3)
    latencies, commits = [], []
    for number in range(EDITS):
        solution = db.session.get(Solution, rng.choice(visible))
        word = f"kestrel{number:02d}{rng.choice('bdfgkmpvz')}x"
        solution.title = f"{solution.title} {word}"
        code = solution.code
        started = time.perf_counter()
        db.session.commit()
        committed = time.perf_counter()
        while True:
            if any(hit.id == code for hit in search(db.session, word).results):
                break
            if time.perf_counter() - started > 10:
                raise SystemExit(f"edit {number}: {word!r} not searchable after 10 s")
            time.sleep(0.005)
        latencies.append(time.perf_counter() - started)
        commits.append(committed - started)
    app.config["SEARCH_SYNC"] = "off"
    return latencies, commits


# --------------------------------------------------------------------------------------------
# The FTS5 floor.

FTS_WORD = re.compile(r"\w+")


def fts_build(corpus: Corpus) -> tuple[sqlite3.Connection, float, int]:
    started = time.perf_counter()
    connection = sqlite3.connect(":memory:")
    connection.execute(
        "CREATE VIRTUAL TABLE docs USING fts5(title, body, kind UNINDEXED, code UNINDEXED, "
        "tokenize='porter unicode61 remove_diacritics 2')"
    )
    names = corpus.challenge_names
    challenges_of: dict[int, list[int]] = {}
    for link in corpus.links:
        challenges_of.setdefault(link["solution_id"], []).append(link["challenge_id"])
    rows = []
    for row in corpus.challenges:
        root = corpus.challenge_root[row["id"]]
        body = "\n".join(
            filter(
                None,
                [
                    row["description"],
                    (row["keywords"] or "").replace("\n", ", "),
                    names[root] if root != row["id"] else None,
                ],
            )
        )
        rows.append((row["name"], body, "challenge", row["code"]))
    for row in corpus.solutions:
        if row["status"] != "approved":
            continue
        linked = challenges_of.get(row["id"], [])
        context = [names[i] for i in linked] + sorted(
            {names[corpus.challenge_root[i]] for i in linked}
        )
        own = "\n".join(filter(None, [row["summary"], row["body"], row["steps"]]))
        rows.append((row["title"], own + "\n" + "\n".join(context), row["kind"], row["code"]))
    connection.executemany("INSERT INTO docs VALUES (?, ?, ?, ?)", rows)
    connection.commit()
    return connection, time.perf_counter() - started, len(rows)


def fts_search(connection: sqlite3.Connection, query: Query) -> list[tuple]:
    words = FTS_WORD.findall(query.text.lower())
    if not words:
        return []
    where = "docs MATCH ? AND kind = ?" if query.kind else "docs MATCH ?"
    sql = f"SELECT code, bm25(docs, 3.0, 1.0) AS s FROM docs WHERE {where} ORDER BY s LIMIT 10"
    quoted = [f'"{word}"' for word in words]
    for expression in (" ".join(quoted), " OR ".join(quoted)):
        parameters = (expression, query.kind) if query.kind else (expression,)
        rows = connection.execute(sql, parameters).fetchall()
        if rows or len(quoted) == 1:
            return rows
    return []


def time_fts(connection: sqlite3.Connection, queries: list[Query]) -> tuple[list[float], int]:
    for query in queries[:WARM_UP]:
        fts_search(connection, query)
    seconds, empty = [], 0
    for query in queries:
        started = time.perf_counter()
        rows = fts_search(connection, query)
        seconds.append(time.perf_counter() - started)
        empty += not rows
    return seconds, empty


# --------------------------------------------------------------------------------------------
# The run.


def busy_cpu_seconds() -> float:
    """CPU time every process on the machine has used so far (from /proc/stat), in seconds."""
    with open("/proc/stat", encoding="ascii") as handle:
        fields = [int(value) for value in handle.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def wait_for_quiet(limit: float = 90.0, threshold: float = 0.15) -> float:
    """Wait (up to ``limit`` s) until other processes use under ``threshold`` of a core over a
    second; returns the share of a core they used in the last second sampled."""
    deadline = time.monotonic() + limit
    while True:
        before = busy_cpu_seconds() - own_cpu_seconds()
        time.sleep(1.0)
        share = busy_cpu_seconds() - own_cpu_seconds() - before
        if share < threshold or time.monotonic() > deadline:
            return share


class OtherLoad:
    """CPU seconds other processes used while a block ran (machine total minus this process)."""

    def __enter__(self) -> OtherLoad:
        self.started = time.perf_counter()
        self.before = busy_cpu_seconds() - own_cpu_seconds()
        return self

    def __exit__(self, *exc) -> None:
        self.wall = time.perf_counter() - self.started
        self.cpu = max(busy_cpu_seconds() - own_cpu_seconds() - self.before, 0.0)


def run(arguments: argparse.Namespace) -> Results:
    from cxactions import create_app
    from cxactions.foundations.extensions import db
    from cxactions.search import engine
    from cxactions.search.service import index_path, rebuild_index, search

    results = Results()
    results.settings = {
        "solutions": arguments.solutions,
        "queries": arguments.queries,
        "seed": arguments.seed,
        "load": [os.getloadavg()[0]],
        "others": {},
    }
    whole = time.perf_counter()
    started = time.perf_counter()
    corpus = generate(arguments.solutions, arguments.seed)
    queries = make_queries(arguments.queries, arguments.seed)
    warm = warm_up_queries(arguments.seed)
    figures = results.figures
    figures["generate_s"] = time.perf_counter() - started
    words = [
        len(" ".join(filter(None, [row["summary"], row["body"], row["steps"]])).split())
        for row in corpus.solutions
    ]
    body_words = [len(row["body"].split()) for row in corpus.solutions]
    figures["words_mean"] = statistics.fmean(words)
    figures["body_words"] = (min(body_words), statistics.fmean(body_words), max(body_words))
    figures["visible"] = sum(row["status"] == "approved" for row in corpus.solutions)
    figures["challenges"] = len(corpus.challenges)
    figures["links"] = len(corpus.links)
    print(
        f"generated {len(corpus.solutions):,} solutions ({figures['visible']:,} approved, "
        f"~{figures['words_mean']:.0f} words each) and {len(queries)} queries "
        f"in {figures['generate_s']:.1f} s",
        file=sys.stderr,
    )
    # The floor's table is built now, so that the generated corpus can be let go before the
    # timings: the search process should hold what a ``cxactions search`` process holds.
    fts, figures["fts_build_s"], figures["fts_documents"] = fts_build(corpus)

    root = tempfile.mkdtemp(prefix="cxactions-search-bench-")
    try:
        app = create_app(
            {
                "INSTANCE_PATH": root,
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{root}/cxactions.sqlite3",
                "SEARCH_INDEX_PATH": os.path.join(root, "search-index"),
                "SEARCH_SYNC": "off",
                "SECRET_KEY": "bench",
            }
        )
        with app.app_context():
            from flask_migrate import upgrade

            upgrade()
            figures["insert_s"] = load(corpus)
            visible = [row["id"] for row in corpus.solutions if row["status"] == "approved"]
            del corpus
            gc.collect()
            print(f"inserted in {figures['insert_s']:.1f} s; rebuilding ...", file=sys.stderr)

            wait_for_quiet()
            with OtherLoad() as load_meter:
                started = time.perf_counter()
                figures["documents"] = rebuild_index()
                figures["rebuild_s"] = time.perf_counter() - started
            results.settings["others"]["rebuild"] = (load_meter.cpu, load_meter.wall)
            figures["index_mb"] = folder_mb(index_path())
            figures["rss_after_rebuild"] = rss_mb()
            figures["peak_after_rebuild"] = peak_mb()
            started = time.perf_counter()
            search(db.session, "queue")
            figures["first_search_s"] = time.perf_counter() - started
            print(
                f"rebuild: {figures['documents']:,} documents in {figures['rebuild_s']:.1f} s, "
                f"{figures['index_mb']:.0f} MB; first search "
                f"{figures['first_search_s'] * 1000:.0f} ms",
                file=sys.stderr,
            )

            time_searches(warm)
            figures["gc_objects"] = len(gc.get_objects())
            wait_for_quiet()
            with OtherLoad() as load_meter:
                results.timed = time_searches(queries)
            results.settings["others"]["search"] = (load_meter.cpu, load_meter.wall)
            overall = percentiles([item.seconds for item in results.timed])
            print(
                f"search: p50 {overall['p50']:.1f} ms, p95 {overall['p95']:.1f} ms",
                file=sys.stderr,
            )
            for name, extras in (
                ("facets", {"facets": True}),
                ("snippets", {"snippets": True}),
                ("page", {"facets": True, "snippets": True}),
            ):
                time_searches(warm, **extras)
                with OtherLoad() as load_meter:
                    page = time_searches(queries, **extras)
                results.settings["others"][name] = (load_meter.cpu, load_meter.wall)
                results.page[name] = percentiles([item.seconds for item in page])
                print(
                    f"{name}: p50 {results.page[name]['p50']:.1f} ms, "
                    f"p95 {results.page[name]['p95']:.1f} ms",
                    file=sys.stderr,
                )
            figures["rss_after_search"] = rss_mb()
            if arguments.profile:
                results.profile = profile_slowest(results.timed)

            with OtherLoad() as load_meter:
                results.edits, results.commits = edit_latency(app, visible, arguments.seed)
            results.settings["others"]["edits"] = (load_meter.cpu, load_meter.wall)
            figures["index_mb_after_edits"] = folder_mb(index_path())
            print(
                f"edits: median {statistics.median(results.edits) * 1000:.0f} ms, "
                f"max {max(results.edits) * 1000:.0f} ms",
                file=sys.stderr,
            )
            engine.forget_open_indexes()
            db.session.remove()
            db.engine.dispose()
    finally:
        shutil.rmtree(root, ignore_errors=True)

    with OtherLoad() as load_meter:
        seconds, empty = time_fts(fts, queries)
    results.settings["others"]["fts"] = (load_meter.cpu, load_meter.wall)
    results.fts = percentiles(seconds)
    results.fts["empty"] = empty
    results.fts["per_category"] = {
        category: percentiles(
            [s for s, q in zip(seconds, queries, strict=True) if q.category == category]
        )
        for category in MIX
        if any(q.category == category for q in queries)
    }
    fts.close()
    figures["peak_mb"] = peak_mb()
    results.settings["load"].append(os.getloadavg()[0])
    results.settings["seconds"] = time.perf_counter() - whole
    return results


# --------------------------------------------------------------------------------------------
# Reporting.


def machine() -> str:
    return (
        f"{os.cpu_count()} cores ({platform.machine()}, {platform.system()}), "
        f"Python {platform.python_version()}, Whoosh-Reloaded {metadata.version('Whoosh-Reloaded')}, "
        f"SQLAlchemy {metadata.version('SQLAlchemy')}, SQLite {sqlite3.sqlite_version}"
    )


def verdict(ok: bool) -> str:
    return "**met**" if ok else "**missed**"


def busy_note(others: dict[str, tuple[float, float]]) -> str:
    busy = {name: cpu / wall for name, (cpu, wall) in others.items() if wall and cpu > 0.1 * wall}
    if not busy:
        return "The timings are clean."
    return (
        "**The machine was shared**: other processes used, on average, "
        + ", ".join(f"{share:.0%} of a core during {name}" for name, share in busy.items())
        + f" ({os.cpu_count()} cores in all): those times are likely high."
    )


def markdown(results: Results) -> str:
    settings, figures = results.settings, results.figures
    timed = results.timed
    overall = percentiles([item.seconds for item in timed])
    fts = results.fts
    ratio = overall["p95"] / fts["p95"] if fts["p95"] else float("inf")
    page = results.page
    low, mean, high = figures["body_words"]
    zero = sum(item.total == 0 for item in timed)
    relaxed = sum(item.relaxed for item in timed)
    corrected = sum(item.corrected for item in timed)
    suggested = sum(item.suggestion is not None for item in timed)
    n = settings["solutions"]
    lines = [
        f"{HEADING}: {n:,} solutions (English and French)",
        "",
        f"Measured {dt.date.today().isoformat()} on {machine()} by `bench/search.py` "
        f"(seed {settings['seed']}; {settings['seconds']:.0f} s in all; load average "
        f"{settings['load'][0]:.1f} at the start, {settings['load'][1]:.1f} at the end).",
        "",
        f"Data: {n:,} generated solutions, half English half French "
        f"({figures['visible']:,} approved and searchable, the rest drafts, pending or retired), "
        f"bodies of {low}-{high} words (mean {mean:.0f}; ~{figures['words_mean']:.0f} words with "
        f"summary and steps), titles of 5-10 words, four kinds, {figures['links']:,} links to the "
        f"{figures['challenges']} seed challenges; {figures['documents']:,} index documents "
        "(solutions of every status and the challenges). SQLite in a temporary instance, loaded "
        f"with SQLAlchemy core in {figures['insert_s']:.1f} s.",
        "",
        f"Queries: {len(timed)}, deterministic — "
        + ", ".join(
            f"{sum(item.query.category == name for item in timed)} {CATEGORY_LABELS[name]}"
            for name in MIX
        )
        + f"; {WARM_UP} warm-up queries first. Each call is "
        "`search(query, SearchOptions(kind=..., per_page=10))` + `as_dict()` + `json.dumps` "
        "(what `cxactions search --format json` prints), one app context, one thread, the "
        "searcher reused.",
        "",
        "| figure | value | target |",
        "| --- | ---: | --- |",
        f"| full rebuild (`rebuild_index()`) | **{figures['rebuild_s']:.1f} s** | "
        f"≤ {TARGET_REBUILD_S:.0f} s: {verdict(figures['rebuild_s'] <= TARGET_REBUILD_S)} |",
        f"| search p50 / p95 / p99 / max | {overall['p50']:.1f} / **{overall['p95']:.1f}** / "
        f"{overall['p99']:.1f} / {overall['max']:.0f} ms | p95 ≤ {TARGET_P95_MS:.0f} ms: "
        f"{verdict(overall['p95'] <= TARGET_P95_MS)} |",
        f"| FTS5 floor p50 / p95 / p99 / max | {fts['p50']:.2f} / {fts['p95']:.2f} / "
        f"{fts['p99']:.2f} / {fts['max']:.1f} ms | — |",
        f"| ratio search p95 / FTS5 p95 | {ratio:.1f}× | recorded |",
        f"| edit searchable after commit, median / max of {len(results.edits)} | "
        f"{statistics.median(results.edits) * 1000:.0f} / **{max(results.edits) * 1000:.0f} ms** "
        f"| ≤ {TARGET_EDIT_S:.0f} s: {verdict(max(results.edits) <= TARGET_EDIT_S)} |",
        f"| page call (facets + snippets) p50 / p95 | {page['page']['p50']:.1f} / "
        f"{page['page']['p95']:.1f} ms | — |",
        f"| with facets only / snippets only, p95 | {page['facets']['p95']:.1f} / "
        f"{page['snippets']['p95']:.1f} ms | — |",
        f"| first search after the rebuild (index opened) | "
        f"{figures['first_search_s'] * 1000:.0f} ms | — |",
        f"| index on disk | {figures['index_mb']:.0f} MB ({figures['index_mb_after_edits']:.0f} MB "
        "after the edits) | — |",
        f"| RSS after the rebuild / after the searches; peak | "
        f"{figures['rss_after_rebuild']:.0f} / {figures['rss_after_search']:.0f} MB; "
        f"{figures['peak_mb']:.0f} MB | — |",
        "",
        "Peak RSS is the whole benchmark process (`ru_maxrss`): it held the generated corpus and "
        "holds the in-memory FTS5 table as well as the app. The corpus is let go before the "
        f"timings: the searching process then holds {figures['gc_objects']:,} objects tracked by "
        "Python's garbage collector (the app, SQLAlchemy, Whoosh), as a `cxactions` process does.",
        "",
        "Machine load: "
        + "; ".join(
            f"{name} {cpu:.1f} CPU-s of other processes over {wall:.0f} s"
            for name, (cpu, wall) in settings["others"].items()
        )
        + " (from `/proc/stat`, minus this process's own CPU time; the rebuild and the search "
        "pass each wait up to 90 s for a quiet second first). " + busy_note(settings["others"]),
        "",
        "Per kind of query (ms):",
        "",
        "| queries | n | search p50 | p95 | max | FTS5 p50 | FTS5 p95 |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name in MIX:
        items = [item.seconds for item in timed if item.query.category == name]
        if not items:
            continue
        stats = percentiles(items)
        floor = fts["per_category"][name]
        lines.append(
            f"| {CATEGORY_LABELS[name]} | {len(items)} | {stats['p50']:.1f} | {stats['p95']:.1f} "
            f"| {stats['max']:.0f} | {floor['p50']:.2f} | {floor['p95']:.2f} |"
        )
    lines += [
        "",
        f"Answers: {zero} of {len(timed)} queries find nothing; {relaxed} relax from all words "
        f"to any word, {corrected} are answered for the corrected query, {suggested} carry a "
        f"suggestion. FTS5 finds nothing for {fts['empty']} of {len(timed)} (no stemming of "
        "French, no typo tolerance).",
        "",
        "The 10 slowest queries:",
        "",
        "| ms | query | kind of query | hits | how |",
        "| ---: | --- | --- | ---: | --- |",
    ]
    for item in sorted(timed, key=lambda item: -item.seconds)[:10]:
        how = []
        if item.relaxed:
            how.append("relaxed to any word")
        if item.corrected:
            how.append(f"corrected to “{item.suggestion}”")
        elif item.suggestion:
            how.append(f"suggests “{item.suggestion}”")
        label = CATEGORY_LABELS[item.query.category]
        if item.query.kind:
            label += f" ({item.query.kind})"
        lines.append(
            f"| {item.seconds * 1000:.1f} | `{item.query.text}` | {label} | {item.total:,} | "
            f"{'; '.join(how) or 'all words'} |"
        )
    lines += [
        "",
        "FTS5 floor: an in-memory SQLite FTS5 table (`porter unicode61 remove_diacritics 2`) of "
        f"the same {figures['fts_documents']:,} visible documents (title; body = summary, body, "
        "steps and challenge names, as indexed), built in "
        f"{figures['fts_build_s']:.1f} s; each query's words quoted and ANDed, ORed when that "
        "finds nothing; top 10 by `bm25(docs, 3.0, 1.0)`; the kind filter on a column.",
        "",
        'Edits: `SEARCH_SYNC="inline"`; a solution\'s title gains a new word through the ORM '
        "and is committed (the index follows in the commit's `after_commit`); timed from just "
        "before `commit()` until `search(word)` returns the solution. The commit itself took "
        f"{statistics.median(results.commits) * 1000:.0f} ms (median), "
        f"{max(results.commits) * 1000:.0f} ms at most.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--solutions", type=int, default=20_000, help="solutions [20000]")
    parser.add_argument("--queries", type=int, default=500, help="timed queries [500]")
    parser.add_argument("--seed", type=int, default=7, help="random seed [7]")
    parser.add_argument("--no-write", action="store_true", help="leave bench/RESULTS.md alone")
    parser.add_argument("--profile", action="store_true", help="cProfile the 10 slowest queries")
    arguments = parser.parse_args()
    results = run(arguments)
    section = markdown(results)
    print(section)
    if results.profile:
        print(results.profile)
    if not arguments.no_write:
        write_section(HEADING, section)


if __name__ == "__main__":
    main()
