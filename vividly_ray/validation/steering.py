"""Prompt injection: text that tries to steer the system instead of asking a question.

The question reaches a script writer that may be a language model, so wording aimed at that model
("disregard the earlier rules", "print your hidden prompt", "from now on you are ...") is refused
rather than passed on. Ordinary sentences that share words with these stay open: enzymes "act as"
catalysts, opossums "pretend to be" dead, students "forget the rules" of grammar.
"""

from __future__ import annotations

from vividly_ray.validation.rules import Category, any_of, rule

_TARGETS = any_of(
    r"instructions?",
    r"rules?",
    r"prompts?",
    r"directions?",
    r"guidelines?",
    r"guardrails?",
    r"constraints?",
    r"restrictions?",
    "programming",
    "training",
    r"filters?",
    "policies",
    "policy",
    "settings",
    "context",
    r"messages?",
    r"commands?",
)
# At least one of these must qualify the target, so "ignore the rules of chess" is not steering.
_QUALIFIERS = any_of(
    "all",
    "any",
    "every",
    "your",
    "previous",
    "prior",
    "above",
    "earlier",
    "preceding",
    "original",
    "initial",
    "system",
    "safety",
    "old",
    "existing",
    "those",
    "these",
)
_DETERMINERS = any_of("the", "of", "my", "and", "everything", _QUALIFIERS)
# Who tells the system to become someone else: "you", "please", or an opening imperative.
_ADDRESSED = any_of(
    "^",
    r"\bplease ",
    r"\bnow ",
    r"\byou (?:will |must |should |can |shall )?",
    r"\bcan you ",
    r"\bcould you ",
    r"\bwill you ",
    r"\bi want you to ",
    r"\byou to ",
    r"\blets ",
    r"\blet us ",
    r"\bthen ",
)

STEERING = rule(
    Category.STEERING,
    "the request tries to change how the system works instead of asking a question. "
    "Please ask about a topic you want to learn.",
    rf"\b(?:ignore|disregard|forget|override|bypass|skip|drop|delete|erase|abandon|dismiss) "
    rf"(?:{_DETERMINERS} )*{_QUALIFIERS} (?:{_DETERMINERS} )*{_TARGETS}\b",
    r"\b(?:ignore|disregard|forget) (?:all |everything |of )?(?:the |that )?(?:above|previous|"
    r"prior|preceding|earlier)\b",
    r"\b(?:ignore|disregard|forget) (?:everything|all of that|all that|what) (?:above|before|"
    r"i said|you were told|youve been told|you were given|you know)\b",
    r"\bsystem prompts?\b",
    r"\b(?:hidden|secret|developer|internal) (?:prompts?|instructions)\b",
    r"\bpre ?prompts?\b",
    r"\b(?:reveal|show|print|display|output|repeat|leak|dump|tell me|give me|share|expose|"
    r"what (?:is|are|were)) (?:me )?(?:your|the (?:hidden|secret|system|internal|initial|"
    r"original)) (?:full |exact |entire |original |initial |hidden |secret |internal )?"
    r"(?:prompts?|instructions|rules|configuration|config|guidelines|api keys?|keys?|passwords?|"
    r"secrets?|training data|source code)\b",
    r"\byou are (?:now|no longer|not (?:an? )?(?:ai|assistant|chatbot|bound|restricted))\b",
    r"\byoure (?:now|no longer)\b",
    r"\bfrom now on you\b",
    rf"{_ADDRESSED}act as\b",
    r"\bact as (?:if|though) you\b",
    rf"{_ADDRESSED}pretend (?:that )?(?:you|youre|to be|i am|im|there (?:are|is) no|the rules)\b",
    r"\bpretend (?:that )?(?:you are|youre|to be (?:an? |my |the )?(?:\w+ )?(?:ai|bot|chatbot|"
    r"assistant|human|hacker|character|dan|model))\b",
    r"\brole ?play(?:ing)? (?:as|with me)\b",
    rf"{_ADDRESSED}role ?play\b",
    r"\bjailbr(?:ea|o)k\w*",
    r"\bdeveloper mode\b",
    r"\bdan mode\b",
    r"\bdo anything now\b",
    r"\b(?:with no|without any|without) (?:restrictions|filters|censorship|content filters?|"
    r"content policy)\b",
    r"\bunfiltered\b",
    r"\buncensored\b",
    r"\bno (?:rules|limits) mode\b",
    r"\bnew instructions?\b",
    r"\boverride (?:mode|safety|protocol)\b",
    r"^(?:system|assistant|developer) (?:prompt|message|note|override|you|ignore|new)\b",
    r"^new (?:rules?|instructions?|task)\b",
    r"\binst\b",
    r"\bpwned\b",
    r"\bif you (?:had|have|didnt have) no (?:rules|restrictions|filters|limits)\b",
    r"\byou (?:must|will|should|shall) (?:now|from now on|always|only)\b",
    r"\b(?:respond|reply|answer) only (?:with|in)\b",
    r"\brepeat (?:after me|the (?:text|words|above))\b",
    r"\b(?:print|output|repeat|translate) (?:the |everything |all )?(?:above|previous|preceding)"
    r"(?: text| message| instructions| prompt)?\b",
    r"\b(?:make|have|let) (?:the |your )?(?:narrator|voice|video|ai|bot) (?:say|swear|curse|"
    r"scream|yell)\b",
    r"\b(?:say|use|include|add|with) (?:\S+ ){0,2}(?:bad|swear|curse|cuss) words\b",
)
