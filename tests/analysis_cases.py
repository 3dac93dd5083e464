"""The French analysis promises as (query, text) cases, checked on the Python analyzer
(test_analysis.py) and on the cluster's (test_opensearch_analysis.py)."""

PAIRS = [
    # elision, with ' and ’, any case
    ("alliance", "l'Alliance"),
    ("alliance", "L’ALLIANCE"),
    ("armes", "d'armes"),
    ("ici", "jusqu'ici"),
    ("armée", "lorsqu'armée"),
    ("alliés", "puisqu'alliés"),
    # case and accent folding
    ("etats-unis", "États-Unis"),
    ("defense", "défense"),
    ("coeur", "cœur"),
    ("Ecole", "école"),
    ("ecole", "ÉCOLE"),
    # hyphenated names and compounds
    ("Pays-Bas", "pays bas"),
    ("pays bas", "Pays-Bas"),
    ("contre-offensive", "contre offensive"),
    # inflection
    ("munition", "munitions"),
    ("ukrainien", "ukrainiennes"),
    ("armement", "armements"),
    # Snowball's rules for é-endings still apply after accent folding
    ("adoptée", "adopté"),
    ("adoptees", "adopté"),
    ("adoptées", "adopte"),
    ("première", "premier"),
    ("premieres", "premier"),
    ("tentèrent", "tenter"),
    ("arrivée", "arrivé"),
    # acronyms and numbers
    ("ONU", "O.N.U."),
    ("O.N.U.", "Onu"),
    ("onu", "ONU"),
    ("155 mm", "155mm"),
    ("155mm", "155 mm"),
]

# The query finds the text, which says more than the query.
ONE_WAY = [
    ("offensive", "contre-offensive"),
    ("est", "Europe de l'Est"),
    ("son", "le son et lumière"),
    ("été", "un été chaud"),
    ("155mm", "des obus de 155 mm"),
    ("Stoltenberg", "Jens Stoltenberg"),
]
