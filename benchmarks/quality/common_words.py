"""About twelve hundred of the most common English words, for the K-2 reading check.

The list was written for this harness: the function words, the everyday nouns, verbs and
adjectives of children's first reading, numbers, colours, family, body, home, school, weather
and nature words. A word also counts as common in a regular inflected form ("cats", "jumped",
"running", "bigger"), so the list holds base forms only.
"""

from __future__ import annotations

from vividly_ray.library.text import word_set

COMMON_WORDS: frozenset[str] = word_set(
    """
    a about above across act add afraid after afternoon again against age ago agree air all
    almost alone along already also always am among an and angry animal another answer any
    anyone anything apple are area arm around arrive art as ask at aunt away baby back bad bag
    ball band bank base basket bath be bear beat beautiful because become bed bee been before
    begin behind being believe bell below belt bench beside best better between big bike bird
    birthday bit bite black blanket block blood blow blue board boat body bone book born both
    bottle bottom bowl box boy brain branch brave bread break breakfast breath bridge bright
    bring brother brown brush bug build building burn bus busy but butter buy by cake call calm
    came camp can candy cap car card care careful carry case cat catch cause center chair chance
    change chart cheese chicken child children choose circle city class clean clear climb clock
    close cloth clothes cloud coat cold color come common cook cool copy corn corner could count
    country cover cow crayon cross crowd cry cup cut dad dance dark day dead dear deep desk did
    die different dinner dirt dirty do doctor does dog doll dollar done door down draw dream
    dress drink drive drop dry duck during dust each ear early earth easy eat edge egg eight
    either else empty end enough enter even evening ever every everyone everything eye face fact
    fall family far farm fast fat father favorite fear feel feet few field fight fill find fine
    finger finish fire first fish five fix flag flat floor flower fly follow food foot for
    forest forget form forward found four fox free fresh friend frog from front fruit full fun
    funny game garden gas gate gave get gift girl give glad glass go goat gold gone good goodbye
    got grade grandfather grandmother grass gray great green ground group grow guess gun hair
    half hall hand happen happy hard has hat have he head hear heart heat heavy hello help hen
    her here hide high hill him his hit hold hole home hop hope horse hot hour house how hug
    huge hungry hunt hurry hurt i ice idea if important in inside into is it its jar job join
    joke jump just keep key kick kid kind king kiss kitchen kite kitten knee knew know lady lake
    lamp land large last late laugh lay lead leaf learn least leave left leg less let letter lie
    life lift light like line lion list listen little live long look lose lost lot loud love low
    lunch made mail make man many map mark market may maybe me meal mean meat meet men middle
    might milk mind minute miss mix mom money monkey month moon more morning most mother
    mountain mouse mouth move much mud must my name near neck need nest never new next nice
    night nine no noise none noon nor north nose not note nothing now number nurse nut ocean of
    off office often oh oil ok old on once one only open or orange other our out outside over
    own page paint pair pan paper parent park part party pass past path pay pen pencil people
    pet pick picture piece pig pink place plan plane plant plate play please pocket point pond
    pony pool poor pop pot pour present pretty pull pump puppy push put queen question quick
    quiet quite rabbit race rain rainbow raise ran reach read ready real red remember rest rice
    rich ride right ring river road rock roll roof room root rope rose round row rub rule run
    sad safe said sail salt same sand sat save saw say school sea seat second see seed seem
    sell send sentence set seven shade shake shape share sharp she sheep shell shine ship shirt
    shoe shop short should shout show shut sick side sign simple since sing sister sit six size
    skin sky sleep slow small smell smile snake snow so soap sock soft some someone something
    sometimes son song soon sorry sound soup south space speak special spell spend spin spot
    spring square stand star start stay step stick still stone stop store storm story street
    strong student study such sugar summer sun supper sure surprise sweet swim table tail take
    talk tall taste teach teacher team teeth tell ten than thank that the their them then there
    these they thick thin thing think third this those though three through throw tie tiger time
    tiny tired to today together told tomorrow tonight too took tooth top touch town toy track
    train tree trip truck true try turn turtle twelve twenty two uncle under understand until up
    upon us use very visit voice wait wake walk wall want warm was wash watch water wave way we
    wear weather week well went were west wet what wheel when where which while white who whole
    why wide wife wild will win wind window wing winter wish with without woman women wood word
    work world would write wrong yard year yellow yes yesterday yet you young your zero zoo
    able against alive ant apart art aside asleep awake bake barn bat bean bark beach bean bed
    below bend berry bit blind boil bored borrow bounce bud bump bunny bush button cage calf
    cape castle cave chain chalk cheek chest chin chip clap claw clay cliff coin comb cookie
    couch crab crack cream crow crumb cub cube curl dig dish dive dot drum eagle east elephant
    else energy equal excite fair fan feather fence fern fog fold fork friendly fur giant glue
    goose grape grab grin gum hay heel hike hive honey hook hose hum ink insect iron island
    jacket jam jelly juice jungle kangaroo kite knock lamb leash lemon lick lip lock log lucky
    magic magnet mask melt mess metal mirror mitten nail neat noodle oak owl pack pail pea peach
    pear pebble pie pillow pine plum pole pond porch pudding puddle purple puzzle quack rake
    ribbon robot rocket sack sandwich scarf scissors seal shadow sheet shelf shiny shiver skate
    sled slide slip smooth snack sneeze soil spider spoon squirrel stamp stem stir straw stripe
    swing tent thumb tickle toad toast toe tongue towel trunk tub tulip twig umbrella vase vest
    wagon wand web whale wheat whistle wig wolf worm yarn zebra zip
    age air alike ant baby become begin believe belong between beyond bill bit blow born bowl
    brain breathe build burst calm careful cell choose clear climb collect company compare
    contain continue control correct cost crop cry cure decide describe desert design
    destroy develop die dinosaur direction discover distance divide drag drain drift drip
    earn electric enjoy example except explain explore fact fail fault feed float flow force
    freeze friction fuel gain gather gentle germ glow goal gravity guard guide habit hatch
    heal hollow human hunger imagine inch include invent jar keep kilogram kind large layer
    level limit liquid living lizard load loop machine main matter measure meter minus moment
    motion muscle nature nearly object ocean odd order oxygen pattern pause pencil perhaps
    planet plus pollen power practice prepare press problem protect prove rainbow rather record
    reflect remove repeat result return rough safety sail scale science scientist season shake
    shelter shore shrink silver single slope solid sort spare speed spill split spray spread
    stack steam steel stretch sudden sunlight sunny support swamp temperature test thunder tide
    tool travel triangle tunnel type usual valley vapor vegetable view volcano warn waste weigh
    weight whisper wonder wrap
    """
)

_ENDINGS = ("ies", "ied", "ing", "est", "er", "ed", "es", "ly", "s", "d")


def base_forms(word: str) -> list[str]:
    """The word and the bases a regular ending may have come from ("hopping" -> "hop")."""
    word = word.lower().replace("\u2019", "'")
    for suffix in ("'s", "n't", "'ll", "'re", "'ve", "'d", "'m"):
        if word.endswith(suffix):
            word = word[: -len(suffix)]
            break
    forms = [word]
    for ending in _ENDINGS:
        if not word.endswith(ending) or len(word) - len(ending) < 2:
            continue
        stem = word[: -len(ending)]
        forms += [stem, stem + "e"]
        if ending in ("ies", "ied") or (ending == "ly" and stem.endswith("i")):
            forms.append(stem.removesuffix("i") + "y" if ending == "ly" else stem + "y")
        if len(stem) > 2 and stem[-1] == stem[-2]:
            forms.append(stem[:-1])  # "hopping" -> "hop", "bigger" -> "big"
    return forms


def is_common(word: str) -> bool:
    """Whether ``word`` (any case) is a common word or a regular form of one; numbers count."""
    if word.isdigit():
        return True
    return any(form in COMMON_WORDS for form in base_forms(word))
