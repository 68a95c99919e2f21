"""K-12 safety: questions that ask for harm rather than understanding.

Each rule names a category of harmful intent. Legitimate questions about the same things stay
open: how volcanoes explode, the atomic bomb in World War II, what alcohol does to the body, why
the Nazis came to power. See ``rules.py`` for the shape of the patterns.
"""

from __future__ import annotations

import codecs

from vividly_ray.validation.rules import (
    HOW_TO,
    Category,
    Concern,
    Rule,
    any_of,
    framed,
    intent,
    rule,
)
from vividly_ray.validation.steering import STEERING
from vividly_ray.validation.text import safety_forms

# Weapons whose making is never a school question ("how are fireworks made" still is).
_ARMS = any_of(
    r"(?<!bath )(?<!seed )(?<!photo )bombs?",
    r"(?:pipe|car|nail|smoke|dirty) bombs?",
    r"nukes?",
    r"explosives?",
    r"explosive devices?",
    r"grenades?",
    r"land ?mines?",
    "dynamite",
    "c4",
    "tnt",
    "gunpowder",
    "black powder",
    "thermite",
    "napalm",
    r"molotovs?(?: cocktails?)?",
    r"detonators?",
    r"(?:hand|shot|ghost|zip)?guns?",
    r"firearms?",
    r"pistols?",
    r"(?:assault )?rifles?",
    r"ar ?15s?",
    r"ak ?47s?",
    "ammo",
    "ammunition",
    r"bullets?(?! (?:journals?|points?|lists?))",
    r"silencers?",
    r"suppressors?",
    r"weapons?",
    r"poisons?",
    r"(?:poison|toxic|nerve|chlorine|mustard) gas",
    r"nerve agents?",
    "sarin",
    "ricin",
    "cyanide",
    "anthrax",
    r"(?:bio|chemical |biological )weapons?",
    r"tasers?",
    "brass knuckles",
    r"switchblades?",
    r"flamethrowers?",
)
_WEAPONS = any_of(_ARMS, r"fireworks?", r"firecrackers?")
_WEAPON_VERBS = any_of(
    r"mak(?:e|ing)",
    r"build(?:ing)?",
    "create",
    "assemble",
    "construct",
    "craft",
    r"3d print",
    "print",
    r"get(?:ting)?",
    r"buy(?:ing)?",
    "obtain",
    "purchase",
    "order",
    "steal",
    "sneak",
    "smuggle",
    "bring",
    "carry",
    "hide",
    "load",
    "fire",
    "detonate",
    "set off",
    "light",
    "throw",
    "use",
    "mix",
    "cook",
    "brew",
)
_SUBSTANCES = any_of(
    "alcohol",
    r"alcoholic drinks?",
    r"beers?",
    r"wines?",
    "vodka",
    "liquor",
    "hard liquor",
    "booze",
    r"whiske?y",
    "tequila",
    r"cigarettes?",
    "cigs",
    r"cigars?",
    r"vapes?",
    r"vape pens?",
    r"e cigs?",
    r"e cigarettes?",
    r"juuls?",
    "nicotine",
    "tobacco",
    "weed",
    "marijuana",
    "cannabis",
    "edibles",
    "thc",
    "cocaine",
    r"crack(?: cocaine| rocks?)",
    "heroin",
    "meth",
    "crystal meth",
    "methamphetamine",
    "fentanyl",
    r"opioids?",
    r"oxy(?:contin|codone)?",
    "xanax",
    "adderall",
    "lsd",
    "mdma",
    "ecstasy",
    "shrooms",
    "magic mushrooms",
    "ketamine",
    r"drugs?(?! tests?)",
    "poppers",
    "whippets",
    "kratom",
    r"bongs?",
    "a high",
)
_SUBSTANCE_VERBS = any_of(
    r"buy(?:ing)?",
    r"get(?:ting)?",
    "obtain",
    "purchase",
    "order",
    "score",
    "steal",
    "sneak",
    "hide",
    "grow",
    "cook",
    r"mak(?:e|ing)",
    "brew",
    "distill",
    "smoke",
    "vape",
    "try",
    "drink",
    "snort",
    "inject",
    "roll",
    "sell",
    "deal",
    "find",
    "take",
    "afford",
)
_PEOPLE = any_of(
    "someone",
    "somebody",
    "anyone",
    "everyone",
    "a person",
    "people",
    "him",
    "her",
    "them",
    "humans",
    r"animals?",
    r"cats?",
    r"dogs?",
    "kids",
    "children",
    r"classmates?",
    r"teachers?",
    r"(?:my|a|the|our|this) (?:\w+ )?(?:brother|sister|mom|dad|mother|father|parents?|family|"
    r"friend|classmate|teacher|principal|coach|neighbou?r|ex|boyfriend|girlfriend|bully|enemy|pet|cat|"
    r"dog|kid|child|student|man|woman|boy|girl|animal|human|baby|cop|police officer|president|"
    r"class|school|whole class|cousin|grandma|grandpa)s?",
    "a bunch of people",
    "lots of people",
    "as many people as possible",
)
_HURT = any_of(
    "kill",
    "murder",
    "stab",
    "shoot",
    "strangle",
    "choke",
    "poison",
    "hurt",
    "harm",
    "torture",
    "beat up",
    "attack",
    "punch",
    "kidnap",
    "drown",
    "suffocate",
    "burn",
    "assault",
    "abuse",
    "stalk",
)
_GROUPS = any_of(
    r"jews?",
    "jewish people",
    r"muslims?",
    r"christians?",
    r"catholics?",
    r"hindus?",
    r"sikhs?",
    r"atheists?",
    "black people",
    "blacks",
    "white people",
    "whites",
    r"asians?",
    "asian people",
    r"hispanics?",
    r"latinos?",
    r"latinas?",
    r"mexicans?",
    r"africans?",
    r"arabs?",
    r"immigrants?",
    r"refugees?",
    "gay people",
    "gays",
    r"lesbians?",
    "trans people",
    "transgender people",
    "women",
    "girls",
    "disabled people",
    "autistic people",
    "poor people",
    "native americans",
    "indians",
    "chinese people",
    "fat people",
)
_INFERIOR = any_of(
    "inferior",
    "stupid",
    "dumb",
    "evil",
    "lazy",
    "dirty",
    "ugly",
    "worse",
    "subhuman",
    "less intelligent",
    "less smart",
    "criminals",
    "animals",
    "trash",
    "disgusting",
    "terrorists",
    "the problem",
    "not human",
    "worthless",
    "bad people",
    "gross",
)
# Kept as ROT13 so that the source does not read as a list of insults.
_SLURS = any_of(
    *(
        codecs.decode(word, "rot13")
        for word in (
            "avttre",
            "avttref",
            "avttn",
            "avttnf",
            "snttbg",
            "snttbgf",
            "snt",
            "sntf",
            "xvxr",
            "xvxrf",
            "fcvp",
            "fcvpf",
            "puvax",
            "puvaxf",
            "genaal",
            "gennavrf",
            "jrgonpx",
            "jrgonpxf",
            "enturnq",
            "gbjryurnq",
            "tbbx",
            "tbbxf",
            "ergneq",
            "ergneqf",
            "ergneqrq",
        )
    )
)

# Someone else, and the accounts and devices of theirs that are off limits.
_OTHERS = any_of(
    "someone",
    "somebody",
    "someone else",
    "other people",
    r"another (?:person|student|kid)",
    r"(?:my|a|the|our) (?:teacher|school|friend|classmate|neighbou?r|brother|sister|mom|dad|"
    r"parent|ex|principal|boyfriend|girlfriend|crush|enemy|bully)s?",
)
_ACCOUNTS = (
    r"(?:account|password|phone|computer|laptop|wifi|email|instagram|snapchat|tiktok|messages|"
    r"texts|grades|location|diary)s?"
)

_HATE_REASON = "content that insults or demeans people, or targets someone, is not allowed."

HARM_RULES: tuple[Rule, ...] = (
    rule(
        Category.WEAPONS,
        "making, getting or using weapons or explosives is not something we can explain. "
        "You could ask how they changed history or the science of explosions instead.",
        intent(_WEAPON_VERBS, _WEAPONS),
        rf"\bhow (?:is|are) (?:a |an |the )?{_ARMS} (?:made|built|assembled)\b",
        r"\b(?:make|making|create|mix|mixing) (?:\S+ ){0,3}(?:toxic|poison|poisonous|nerve|"
        r"chlorine|mustard) gas\b",
        r"\b(?:bring|take|sneak|carry|hide) (?:a |my |the )?(?:gun|knife|weapon|bomb)s? "
        r"(?:in)?to (?:school|class)\b",
    ),
    rule(
        Category.DRUGS,
        "getting or using alcohol, tobacco, vapes or drugs as a student is not something we can "
        "help with. You could ask how they affect the body instead.",
        intent(_SUBSTANCE_VERBS, _SUBSTANCES),
        r"\b(?:get|getting|got) (?:really |so |super )?(?:drunk|stoned|wasted|hammered|buzzed|"
        r"tipsy|faded|cross faded)\b",
        r"\b(?:to|i|we|you|me|kids|teens|people) get (?:really |so )?high\b"
        r"(?! (?:score|grade|mark))",
        r"\b(?:pass|beat|cheat|trick|fool) (?:a |the |my )?(?:drug|urine|pee) tests?\b",
        r"\bhide (?:\S+ ){0,3}(?:weed|vapes?|alcohol|beer|cigarettes|drugs|smoke smell) from\b",
    ),
    rule(
        Category.SELF_HARM,
        "this is too important for a video. If you are thinking about hurting yourself, please "
        "talk to a trusted adult now, or call or text 988 (Suicide and Crisis Lifeline).",
        r"(?<!not )(?<!dont )(?<!never )\b(?:kill|hurt|harm|cut|starve|burn|hang|drown|poison|"
        r"shoot|stab) (?:my ?self|myself)\b",
        r"\bsuicid(?:e|al)\b",
        r"\bself harm(?:ing)?\b",
        r"\bend (?:my (?:own )?life|it all)\b",
        r"\bi (?:just |really |kinda |sometimes )?(?:want|wanna|wish|deserve) (?:to die|i was dead|"
        r"i were dead|i wasnt born)\b",
        r"\b(?:dont|do not|no longer|never) want to (?:live|be alive|exist|wake up)\b",
        r"\b(?:painless|easy|quick|quickest|best|easiest) ways? to die\b",
        r"\bhow (?:many|much) \S+(?: \S+){0,3} (?:to|would|will|does it take to|it takes to) "
        r"(?:overdose|od|die|kill (?:me|myself|a person|someone))\b",
        r"\boverdos(?:e|ing) on purpose\b",
        r"\bpro ana\b",
        r"\bthinspo\b",
        r"\bmak(?:e|ing) myself (?:throw up|vomit|puke|bleed|pass out|faint)\b",
    ),
    rule(
        Category.SEXUAL,
        "sexual content is not suitable for a school video.",
        r"\bporn\w*",
        r"\bnudes\b",
        r"\b(?:nude|naked) (?:pics?|pictures?|photos?|images?|videos?|selfies?|girls?|women|woman|"
        r"men|man|boys?|people|bodies|models?)\b",
        r"\bnsfw\b",
        r"\bxxx\b",
        r"\berotic\w*",
        r"\bhorny\b",
        r"\bmasturbat\w*",
        r"\borgasm\w*",
        r"\bonlyfans\b",
        r"\bhentai\b",
        r"\bsext(?:s|ing)?\b",
        r"\b(?:blow|hand)jobs?\b",
        r"\bdildos?\b",
        r"\bstrip(?:pers?| clubs?)\b",
        r"\bsexy\b",
        r"\bboobs\b",
        r"\b(?:have|having|had|has) sex\b",
        r"\bsex (?:with|positions?|tapes?|scenes?|videos?|pics|pictures|acts?|stories|story|"
        r"chat)\b",
        r"\bsexual (?:positions?|acts?|fantas(?:y|ies)|experiences?|content|pictures|videos|"
        r"stories)\b",
        r"\blos(?:e|ing) (?:my |your )?virginity\b",
        r"\bmake out with\b",
        r"\bdirty jokes?\b",
    ),
    rule(
        Category.VIOLENCE,
        "hurting people or animals, and graphic violence, are not suitable for a school video.",
        intent(_HURT, _PEOPLE),
        r"\bgor(?:e|y)\b",
        r"\bgruesome\b",
        r"\bblood and guts\b",
        r"\bdismember\w*",
        r"\bdecapitat\w*",
        r"\bbeheading videos?\b",
        r"\bmutilat\w*",
        r"\bsnuff (?:film|video)s?\b",
        r"\bgraphic (?:violence|details?|images?|pictures?|videos?|deaths?|injur(?:y|ies)|"
        r"descriptions?)\b",
        r"\bin (?:graphic|gory|gruesome|bloody) detail\b",
        rf"\btortur(?:e|ing) {_PEOPLE}\b",
        r"\bshoot(?:ing)? up (?:a |my |the |our )?school\b",
        framed(
            r"(?:plan|do|carry out|commit|pull off) (?:a |an )?(?:school shooting|mass shooting|"
            r"massacre|terrorist attack|murder|killing)\b"
        ),
        framed(r"(?:plan|carry out) (?:a |an )?(?:shooting|attack)\b"),
        r"\bget(?:ting)? away with (?:murder|killing)\b",
        r"\b(?:hide|dispose of|get rid of) (?:a |the )?(?:dead )?body\b",
        r"\bblow up (?:a |the |my |our )?(?:school|building|house|car|people|someone|plane|bus|"
        r"class)\b",
        r"\bmost (?:violent|brutal|painful|gruesome) (?:deaths?|ways? to die|murders?|"
        r"executions?|killings?)\b",
    ),
    rule(
        Category.HATE,
        _HATE_REASON,
        rf"\b{_SLURS}\b",
        framed(
            r"(?:bully|harass|cyberbully|humiliate|embarrass|make fun of|insult|troll|doxx?|"
            r"intimidate|threaten|catfish|blackmail|get revenge on|spread rumou?rs about)\b"
        ),
        intent("roast", _PEOPLE),
        r"\b(?:racist|sexist|homophobic|transphobic|antisemitic|anti semitic|hateful|offensive|"
        r"mean|nasty|cruel) (?:jokes?|insults?|names?|nicknames?|slurs?|memes?|songs?|raps?|"
        r"poems?|comments?|things to say|words)\b",
        r"\b(?:write|tell|say|make|give) (?:me )?(?:something|anything|stuff) (?:racist|sexist|"
        r"homophobic|hateful|offensive)\b",
        r"\binsults? (?:for|about|to say to|to use on|against)\b",
        r"\b(?:heil hitler|sieg heil|white power)\b",
        r"\b(?:hitler|the nazis|nazis|the kkk|kkk|slavery) (?:was|were|is) (?:right|good|great|"
        r"a good thing|awesome|cool|justified)\b",
        r"\bhitler did nothing wrong\b",
        r"\bholocaust (?:never happened|(?:is|was) (?:fake|a hoax|a lie|made up|exaggerated))\b",
    ),
    rule(
        Category.HATE,
        _HATE_REASON,
        rf"\b{_GROUPS} (?:are|is|were) (?:all |so |really |naturally |genetically |just )?"
        rf"{_INFERIOR}\b",
        rf"\bwhy (?:are|is|do) {_GROUPS} (?:so |all |always )?{_INFERIOR}\b",
        rf"\b{_GROUPS} (?:should|must|deserve to) (?:die|be killed|be banned|be deported|"
        r"go back)\b",
        # Asking why others believed a claim is history, not the claim itself.
        unless=r"(?<!\bi )\b(?:think|thinks|thought|believe|believes|believed|claim|claims|"
        r"claimed|say|says|said|argue|argued|considered|called|propaganda|ideology|stereotypes?|"
        r"myths?)\b",
    ),
    rule(
        Category.EVASION,
        "we can't help with getting around laws, school rules, or other people's accounts.",
        r"\bfake (?:ids?|identification|doctors? notes?)\b",
        r"\b(?:buy|get|purchase|order|into) (?:\S+ ){0,5}without (?:an? |my |any |showing "
        r"(?:an? |my )?)?(?:id|ids|identification|proof of age|being carded|getting carded)\b",
        framed(r"hack(?:ing)?\b"),
        intent(
            r"(?:hack(?: into)?|break into|get into|log into|access|crack|steal|spy on|unlock)",
            rf"{_OTHERS}(?: {_ACCOUNTS})?",
        ),
        # Reading or tracking is only prying when it is someone else's messages or whereabouts.
        intent(r"(?:read|track|guess|see|check)", rf"{_OTHERS} {_ACCOUNTS}"),
        framed(r"(?:cheat(?:ing)?|plagiari[sz]e|shoplift(?:ing)?|steal(?:ing)?)\b"),
        r"\b(?:answers?|answer key|answer sheet) (?:to|for) (?:the |my |our |tomorrows? |todays? "
        r"|this |next )?(?:\S+ )?(?:test|exam|quiz|final|midterm|sat|act)\b",
        rf"\b{HOW_TO} .*without (?:getting|being) caught\b",
        r"\bwithout (?:my |our |the )?(?:parents?|mom|dad|teachers?|school|police|cops) "
        r"(?:knowing|finding out|noticing|seeing)\b",
        r"\b(?:bypass|get around|get past|get through|disable|turn off|unblock|evade|trick) "
        r"(?:the |my |our |a |this )?"
        r"(?:school |schools |parental |content |web |internet |wifi ){0,2}"
        r"(?:filters?|firewalls?|parental controls?|blockers?|monitoring|proctoring|"
        r"proctors?|lockdown browser|goguardian|securly|lightspeed|screen time|age verification)\b",
        framed(r"pick (?:a |the )?locks?\b"),
        r"\block ?pick\w*",
        r"\bhotwir(?:e|ing)\b",
        r"\bcounterfeit (?:money|bills|cash)\b",
        r"\b(?:make|print) fake money\b",
        framed(r"(?:make|create|send|write|set up) (?:a )?phishing\b"),
        r"\bkeyloggers?\b",
        r"\bddos\w*",
        framed(r"sneak out\b"),
        framed(r"(?:forge|fake) (?:\S+ ){0,2}signatures?\b"),
        framed(r"lie to (?:my )?(?:parents|mom|dad|teachers?|the police|cops)\b"),
    ),
)


def find_concerns(question: str) -> tuple[Concern, ...]:
    """Every category the question falls in, once each, harm before steering."""
    forms = safety_forms(question)
    found: dict[Category, Concern] = {}
    for candidate in (*HARM_RULES, STEERING):
        if candidate.category not in found and candidate.applies(forms):
            found[candidate.category] = candidate.concern
    return tuple(found.values())
