"""Generic praise and blame: sentences that judge without saying what about ("Great service overall",
"Ogólnie jestem zadowolony", "Non lo consiglio", "Never again", "Все хорошо"). Discovery sets them apart
(counted as general praise/blame, never proposed as a topic and never dropped).

A sentence is generic when, once function words are removed, every word it has left is an evaluative
word or a word that names nothing in particular ("service", "experience", "overall", "everything",
"again") in English, Polish, Russian, Italian, German, French or Spanish. Inflected languages are matched
by stems: a word is in the list when it is one of its words or starts with one of its stems (marked *
in the list). Anything else — "parking", "wifi", "slow", "expensive" — is content,
and a sentence with content is not generic.
"""

from __future__ import annotations

import re

_TOKEN = re.compile(r"[^\W\d_]+", re.U)

# function words (beyond those discovery already ignores), per language; whole words
_FUNCTION = set("""
i me my we us our you your he she it its they them their this that these those there here who what which why how
am is are was were be been being do does did done doing have has had having can could would should will shall may
might must not no nor don didn doesn won wouldn isn wasn aren weren the a an and or but so if then than too very
just only also as at by for from in into of on out to up with about all any some such much many more most again
ever even really quite rather totally completely absolutely definitely highly extremely truly pretty
far yet still so because cause cos since get got getting go goes going gone went seem seems seemed think
feel felt found find say said
ja mi mnie my nas wy on ona ono oni one to ten ta te tego tej jest są był była było byli były jestem jesteśmy
będę będzie być nie tak ale i a w we z ze na do od po za o u że się sobie mój moja moje nasz bardzo całkiem
naprawdę zdecydowanie raczej już jeszcze tylko też także jak czy co kto
я мы вы он она оно они это этот эта эти тот та то так и а но или не ни в во на с со к ко по за от до из о об у
что как все всё был была было были быть есть очень совсем просто вообще действительно уже ещё еще только тоже
мне меня нам нас вам вас
io noi voi lui lei loro il lo la i gli le un una uno e ed o ma non che di da in con su per tra fra del della dei
delle al alla ai alle nel nella è sono era erano stato stata siamo sono ho abbiamo ha hanno mi ci si molto
davvero proprio assolutamente veramente decisamente tutto tutti tutta tutte sempre
ich wir sie er es der die das den dem des ein eine einen und oder aber nicht kein keine ist sind war waren bin
sehr wirklich ganz absolut mit von zu für auf bei auch noch nur schon
je nous vous il elle ils elles le la les un une des et ou mais ne pas de du au aux en dans avec pour sur est
sont était étaient suis très vraiment tout tous toute toutes
yo nosotros usted ellos el la los las un una unos unas y o pero no de del al en con por para es son fue era
eran estoy estamos muy realmente todo todos toda todas
""".split())

# evaluative and empty words: whole words, and stems (marked *) that match any word they begin
_GENERIC = """
good great excellent amazing awesome fantastic* brilliant perfect* wonderful superb outstanding fine nice lovely
best better love loved loving like liked happy pleased satisfied satisfaction satisfactory recommend* recommended
recommending bad poor terrible awful horrible worst worse disappoint* disappointed disappointing disappointment
hate hated unhappy dissatisfied unsatisfied rubbish useless shocking appalling pathetic okay average thanks thank
impressed glad ok decent superb fab fabulous exceptional incredible horrendous dreadful disgrace disgraceful
service services experience experiences overall everything anything nothing something company firm business
never again always forever keep kept well job work worked working thing things one time anyone everyone
nobody anybody everybody customer customers friends family people guys team lot whole general generally
happy unhappy return come back would will definitely
ogólnie ogółem ogół zadowol* niezadowol* polec* dobr* dobrze świetn* super rewelac* doskonał* wspaniał* idealn* fajn*
okej źle zły zła złe złego fataln* tragiczn* okropn* beznadziej* najgorsz* najlepsz* odradzam rozczarow* dziękuj*
dzięki dziekuj* wszystk* nigdy więcej usług* usługa obsług* firma firmy firmie firmę firmą ponown* wrócę wrócimy każdemu nikomu polecenia
miła miły miłe miło ok
хорош* отличн* прекрасн* замечательн* супер классн* великолепн* ужасн* плох* отвратительн* кошмар* рекоменд* советую
довол* недовол* разочаров* спасибо благодар* никогда больше снова опять всем никому сервис обслуживан*
впечатлен* нормальн* лучш* худш* понрав* нрав* люблю вернусь всегда
ottim* buon* bello bella belli belle bellissim* perfett* eccellent* fantastic* stupend* consigli* sconsigli* pessim* terribil* orribil* schif* delus*
deluden soddisf* insoddisf* contento contenta contenti contente mai più servizi* esperienz* complessiv* generale grazie niente nulla male
bene benissimo malissimo torner* ancora volta piaciut* piace adoro
gut gute guter gutes toll super prima hervorrag* ausgezeich* perfekt* schlecht* schrecklich* furchtbar* empfehl*
zufrieden* unzufrieden* enttäusch* alles immer nie niemals wieder danke insgesamt erfahrung leider klasse
bon bonne bien excellent parfait* génial* magnifique* mauvais* horrible nul nulle décevant* déçu recommand*
satisf* insatisf* toujours jamais plus encore merci expérience globalement général
bueno buena buen excelente* perfect* genial malo mala mal pésim* recomiend* recomend* satisfech* insatisfech*
decepcion* siempre nunca más otra vez gracias servicio experiencia nada
"""
_WORDS = {w for w in _GENERIC.split() if not w.endswith("*")}
_STEMS = tuple(sorted(w[:-1] for w in _GENERIC.split() if w.endswith("*")))


def tokens(sentence: str) -> list[str]:
    """The sentence's words, lower-cased (letters only)."""
    return [t.lower() for t in _TOKEN.findall(sentence)]


def evaluative(word: str) -> bool:
    """Whether ``word`` (lower case) is an evaluative or empty word of the list."""
    return word in _WORDS or word.startswith(_STEMS)


def content_words(sentence: str) -> list[str]:
    """The words of ``sentence`` that are neither function words nor generic evaluative ones."""
    return [t for t in tokens(sentence) if len(t) > 1 and t not in _FUNCTION and not evaluative(t)]


def is_generic(sentence: str) -> bool:
    """Whether the sentence judges without naming anything: it has words, and none of them is content."""
    words = [t for t in tokens(sentence) if len(t) > 1]
    return bool(words) and not content_words(sentence)
