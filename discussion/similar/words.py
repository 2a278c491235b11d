"""Word lists for matching: stop words of English, Spanish and Portuguese, and a small
lexicon that gives the same concept to the same word in the three languages.

All entries are written folded (lower case, no accents), as :func:`text.fold` leaves a
text. The lexicon (``lexicon.txt``) lets "datos" in a Spanish question meet "data" in an
English one.
"""

from __future__ import annotations

from pathlib import Path


def _words(text: str) -> frozenset[str]:
    """The words of a blank-separated list."""
    return frozenset(text.split())


STOP_WORDS: dict[str, frozenset[str]] = {
    "en": _words("""
        a about above after again against all also am an and any anyone are as at be
        because been before being below between both but by can could did do does doing
        done down during each either else even ever every few for from further get gets
        getting got had has have having he her here hers him his how i if in into is it
        its itself just let like many may me might more most much must my no nor not now
        of off often on once one only or other our ours out over own per please quite
        rather really same shall she should so some someone something such than that the
        their theirs them then there these they this those though through thus to too
        under until up upon us very was we were what whatever when where whether which
        while who whom whose why will with within without would yet you your yours
        s t d ll m re ve don doesn didn isn aren wasn weren won wouldn shouldn couldn
        cant dont doesnt isnt arent wont wouldnt shouldnt couldnt whats who's hows
        actually anything everyone everything ok okay way thing things still already
        need needs make makes made go going want wants
    """),
    "es": _words("""
        a al algo algun alguna algunas alguno algunos ante antes aqui asi aun aunque
        bajo bien cada casi como con contra cual cuales cualquier cuando cuanto cuanta
        cuantos cuantas de del desde donde dos e el ella ellas ello ellos en entonces
        entre era eran es esa esas ese eso esos esta estaba estan estar estas este esto
        estos fue fueron ha habia han hasta hay haya he hemos hoy la las le les lo los
        mas me mi mis mismo mucho muchos muy nada ni no nos nosotros nuestra nuestras
        nuestro nuestros o os otra otras otro otros para pero poco por porque pues que
        quien quienes se sea sean segun ser si sido siempre sin sino sobre solo son su
        sus tal tambien tan tanto te tiene tienen tener toda todas todo todos tu tus un
        una unas uno unos usted ustedes vez y ya yo puede pueden poder podemos podria
        podrian deberia deberian debe deben deber hacer hace hacen va van vamos ir esta
        estamos cosa cosas realmente
    """),
    "pt": _words("""
        a ao aos aquela aquelas aquele aqueles aquilo as ate com como contra cada da das
        de dela delas dele deles depois do dos e ela elas ele eles em entre era eram essa
        essas esse esses esta estao estas este estes estava eu foi foram ha isso isto ja
        lhe lhes mais mas me mesmo meu meus minha minhas muito muitos na nao nas nem no
        nos nossa nossas nosso nossos num numa o os ou para pela pelas pelo pelos por
        porque quais qual qualquer quando quanto quantos que quem se seja sejam sem ser
        seria seu seus so sua suas sobre tambem te tem ter teu tua tu um uma umas uns
        voce voces vos pode podem poder podemos poderia deve devem dever deveria
        deveriam fazer faz fazem vai vao ir estamos coisa coisas mesmo realmente ainda
        onde sao
    """),
}

ALL_STOP_WORDS: frozenset[str] = frozenset().union(*STOP_WORDS.values())

# Words that tell one language from the others in a short question (beside stop words).
MARKERS: dict[str, frozenset[str]] = {
    "es": _words(
        "el los las del y es son esta estan una unos como cuando donde quien "
        "deberia pueden puede hay muy pero porque tambien"
    ),
    "pt": _words(
        "o os do dos da das e sao uma um em no na nos nas como quando onde quem "
        "deveria podem pode ha muito mas porque tambem nao pelo pela"
    ),
    "en": _words(
        "the of and is are what who how when where should can do does will would there their which"
    ),
}

LEXICON_FILE = Path(__file__).with_name("lexicon.txt")


def lexicon_lines() -> list[str]:
    """The lexicon's concept lines (see lexicon.txt), without comments and blank lines."""
    lines = LEXICON_FILE.read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.strip() and not line.lstrip().startswith("#")]
