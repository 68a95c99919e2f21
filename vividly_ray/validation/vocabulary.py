"""A general K-12 academic vocabulary, and the names of whole subjects.

The terms are what a student names when a question has a topic: concepts from school science,
math, social studies, health, language arts and computing. They are written as a student writes
them; matching folds plurals and possessives, so "magnets" finds "magnet" and "Newton's laws"
finds "newton's laws". Words that are too ambiguous alone ("work", "power", "current", "matter")
appear only inside phrases. The library adds its own titles and keywords at runtime, and a
content noun missing from both still counts as a topic (see ``topic.py``).
"""

from __future__ import annotations

from collections.abc import Mapping

TERMS: Mapping[str, tuple[str, ...]] = {
    "earth science": (
        "water cycle", "evaporation", "condensation", "precipitation", "cloud", "rain", "snow",
        "hail", "weather", "climate", "climate change", "global warming", "greenhouse effect",
        "atmosphere", "volcano", "earthquake", "plate tectonics", "tectonic plate",
        "continental drift", "mountain", "erosion", "weathering", "sediment", "rock", "rock cycle",
        "igneous rock", "sedimentary rock", "metamorphic rock", "mineral", "fossil", "soil",
        "glacier", "ice age", "ocean", "ocean current", "tide", "tsunami", "hurricane", "tornado",
        "thunderstorm", "lightning", "wind", "river", "groundwater", "desert", "rainforest",
        "crust", "mantle", "magma", "lava", "geyser", "natural resource", "fossil fuel",
        "renewable energy", "solar power", "wind power", "pollution", "recycling", "drought",
        "flood", "canyon", "cave", "island", "watershed", "fracking", "ozone layer",
    ),
    "astronomy": (
        "solar system", "sun", "moon", "moon phase", "eclipse",
        "solar eclipse", "lunar eclipse", "planet", "dwarf planet", "mercury", "venus", "earth",
        "mars", "jupiter", "saturn", "uranus", "neptune", "pluto", "asteroid", "comet", "meteor",
        "meteorite", "star", "constellation", "galaxy", "milky way", "universe", "big bang",
        "black hole", "nebula", "supernova", "light year", "orbit", "season", "day and night",
        "telescope", "satellite", "space station", "astronaut", "rocket", "space exploration",
        "exoplanet", "space", "sunspot", "aurora", "red giant", "white dwarf",
    ),
    "physics": (
        "force", "motion", "newton's laws", "newton's first law", "newton's second law",
        "newton's third law", "laws of motion", "inertia", "acceleration", "velocity", "speed",
        "momentum", "friction", "energy", "kinetic energy", "potential energy",
        "conservation of energy", "work and energy", "simple machine", "lever", "pulley",
        "inclined plane", "wheel and axle", "magnet", "magnetism", "magnetic field", "electricity",
        "static electricity", "electric charge", "electric current", "voltage", "resistance",
        "circuit", "series circuit", "parallel circuit", "battery", "conductor", "insulator",
        "wave", "sound", "light", "reflection", "refraction", "lens", "color", "rainbow", "prism",
        "electromagnetic spectrum", "heat", "temperature", "thermal energy", "conduction",
        "convection", "radiation", "density", "buoyancy", "pressure", "air pressure", "mass",
        "weight", "gravity", "projectile motion", "collision", "relativity", "nuclear energy",
        "electromagnet", "frequency", "wavelength", "doppler effect", "echo", "mirror", "shadow",
        "thermodynamics", "electric power", "ohm's law", "vector", "torque", "pendulum",
        "sound wave", "light wave",
    ),
    "chemistry": (
        "atom", "molecule", "element", "compound", "mixture", "solution", "periodic table",
        "chemical reaction", "chemical bond", "ionic bond", "covalent bond", "acid",
        "acids and bases", "ph scale", "states of matter", "solid", "liquid", "gas", "plasma",
        "melting", "freezing", "boiling", "proton", "neutron", "electron", "ion", "isotope",
        "oxidation", "rust", "combustion", "catalyst", "chemical change", "physical change",
        "metal", "carbon", "oxygen", "hydrogen", "nitrogen", "water", "salt", "crystal",
        "dissolving", "solubility", "acid rain", "carbon dioxide", "co2", "h2o", "polymer",
        "fermentation",
    ),
    "biology": (
        "cell", "cell membrane", "nucleus", "mitochondria", "chloroplast", "photosynthesis",
        "cellular respiration", "respiration", "mitosis", "meiosis", "dna", "rna", "gene",
        "genetics", "heredity", "chromosome", "mutation", "evolution", "natural selection",
        "adaptation", "ecosystem", "food chain", "food web", "producer", "consumer", "decomposer",
        "habitat", "biome", "predator", "prey", "species", "extinction", "endangered species",
        "biodiversity", "plant", "animal", "mammal", "reptile", "amphibian", "bird", "fish",
        "insect", "bee", "butterfly", "life cycle", "metamorphosis", "pollination", "seed",
        "flower", "root", "leaf", "tree", "fungus", "bacteria", "virus", "germ", "immune system",
        "vaccine", "blood", "heart", "lung", "brain", "skeleton", "bone", "muscle",
        "digestive system", "circulatory system", "respiratory system", "nervous system",
        "human body", "senses", "protein", "enzyme", "osmosis", "classification", "microorganism",
        "dinosaur", "whale", "shark", "frog", "spider", "hibernation", "migration", "camouflage",
        "skin", "eye", "ear", "tooth", "stomach",
    ),
    "health": (
        "nutrition", "exercise", "sleep", "hygiene", "alcohol", "tobacco", "nicotine", "vaping",
        "caffeine", "sugar", "mental health", "stress", "emotion", "first aid", "handwashing",
        "puberty", "allergy", "disease", "medicine", "addiction",
    ),
    "math": (
        "counting", "number line", "whole number", "addition", "subtraction", "multiplication",
        "division", "long division", "fraction", "decimal", "percent", "percentage", "ratio",
        "proportion", "place value", "times table", "multiplication table", "odd and even numbers",
        "prime number", "factor", "multiple", "exponent", "square root", "order of operations",
        "negative number", "integer", "equation", "linear equation", "quadratic equation",
        "inequality", "variable", "function", "slope", "graphing", "coordinate plane",
        "pythagorean theorem", "triangle", "circle", "square", "rectangle", "polygon", "angle",
        "area", "perimeter", "volume", "surface area", "symmetry", "pi", "probability",
        "mean median and mode", "median", "bar graph", "line graph", "pie chart", "line plot",
        "measurement", "unit conversion", "telling time", "money", "shape", "pattern", "logarithm",
        "sine", "cosine", "matrix", "polynomial", "rounding", "estimation", "arithmetic sequence",
        "prime factorization", "greatest common factor", "least common multiple", "mixed number",
        "improper fraction", "scientific notation", "absolute value",
    ),
    "social studies": (
        "constitution", "bill of rights", "declaration of independence", "american revolution",
        "revolutionary war", "civil war", "world war", "world war i", "world war ii", "world war 1",
        "world war 2", "cold war", "holocaust", "nazi", "nazis", "nazi germany",
        "civil rights movement", "civil rights", "slavery", "abolition", "underground railroad",
        "industrial revolution", "french revolution", "renaissance", "middle ages", "feudalism",
        "ancient egypt", "pyramid", "pharaoh", "ancient greece", "ancient rome", "roman empire",
        "greek mythology", "democracy", "republic", "monarchy", "government",
        "branches of government", "congress", "supreme court", "president", "election", "voting",
        "citizenship", "tax", "economy", "supply and demand", "trade", "immigration",
        "colonization", "colony", "thirteen colonies", "pilgrim", "native american", "explorer",
        "silk road", "great depression", "new deal", "great wall of china", "westward expansion",
        "gold rush", "women's suffrage", "suffrage", "united nations", "map", "continent",
        "country", "culture", "manhattan project", "atomic bomb", "viking", "aztec", "maya", "inca",
        "mesopotamia", "reformation", "apartheid", "treaty", "amendment", "empire", "king", "queen",
        "community", "holiday", "latitude", "longitude", "equator",
    ),
    "language arts": (
        "noun", "verb", "adjective", "adverb", "pronoun", "topic sentence", "punctuation", "comma",
        "metaphor", "simile", "alliteration", "poetry", "haiku", "rhyme", "plot", "character",
        "setting", "main idea", "fable", "fairy tale", "myth", "figurative language",
        "onomatopoeia", "syllable", "phonics", "alphabet", "vowel", "consonant", "prefix", "suffix",
        "synonym", "antonym", "homophone", "parts of speech",
    ),
    "computer science": (
        "computer", "internet", "algorithm", "programming", "binary", "robot",
        "artificial intelligence", "cybersecurity", "encryption", "coding",
    ),
}

# Whole subjects: naming one of these alone is too broad for one short video. The value is the
# name used when asking which topic within it.
SUBJECTS: Mapping[str, str] = {
    "science": "science", "sciences": "science", "physics": "physics",
    "chemistry": "chemistry", "biology": "biology", "earth science": "earth science",
    "life science": "life science", "physical science": "physical science",
    "astronomy": "astronomy", "geology": "geology", "math": "math", "maths": "math",
    "mathematics": "math", "algebra": "algebra", "geometry": "geometry", "calculus": "calculus",
    "trigonometry": "trigonometry", "statistics": "statistics", "history": "history",
    "us history": "U.S. history", "american history": "U.S. history",
    "world history": "world history", "social studies": "social studies",
    "geography": "geography", "civics": "civics", "economics": "economics", "english": "English",
    "ela": "English", "language arts": "English", "reading": "reading", "writing": "writing",
    "literature": "literature", "grammar": "grammar", "health": "health", "stem": "science",
}
