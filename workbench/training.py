"""The policy quiz, built from the agency profile: questions, choices, the right answer and why.

The bank is written into the database with the profile (``migrate.store_profile``). A trainee starts an
attempt (``api.start_training``: questions and choices shuffled for that attempt, no answers) and the
database grades what they submit (``api.submit_training``: the score and the sections to reread, never the
right answers), so a passing training record cannot be written from Python.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from .policy import Profile

# What a trainee who missed a question on the topic is told to reread (never the right answer).
TOPIC_SECTIONS = {
    "purposes": "Authorized and prohibited uses",
    "first_amendment": "First Amendment activity and sensitive places",
    "infractions": "Infractions and minor vehicle code violations",
    "retention": "Retention, deletion and legal holds",
    "verification": "Verifying reads and hot-list hits before action",
    "sharing": "Sharing ALPR data with other agencies",
    "need_to_know": "Need to know and right to know",
    "training": "Training, refreshers and reorientation",
    "audit": "Records of access and audits",
}


@dataclass(frozen=True)
class Question:
    number: int
    topic: str
    question: str
    choices: tuple[str, ...]
    answer: int  # index into choices
    explanation: str
    section: str


def _shuffled(rng: random.Random, right: str, wrong: list[str]) -> tuple[tuple[str, ...], int]:
    choices = [right, *wrong[:3]]
    rng.shuffle(choices)
    return tuple(choices), choices.index(right)


def _labels(group: dict) -> list[str]:
    return [value["label"] for value in group.values()]


def build_questions(profile: Profile) -> list[Question]:
    """Ten multiple-choice questions from the profile's rules (same profile, same quiz)."""
    data = profile.data
    rng = random.Random(profile.sha256)
    policy_name = data["agency"].get("policy", data["agency"]["name"])
    authorized = _labels(data["purposes"]["authorized"])
    prohibited = _labels(data["purposes"]["prohibited"])
    retention = data["retention"]
    training = data["training"]
    sharing = data["sharing"]
    specs: list[tuple[str, str, str, list[str], str]] = []

    specs.append(("purposes", f"Which of these is an authorized purpose for ALPR data under {policy_name}?",
                  authorized[0], prohibited,
                  f"Only the profile's official purposes are allowed; {', '.join(prohibited)} are prohibited."))
    first_amendment = next((v["label"] for k, v in data["purposes"]["prohibited"].items() if "amendment" in k),
                           prohibited[0])
    specs.append(("purposes", "Which of these may ALPR data never be used for?", first_amendment, authorized,
                  "It is a prohibited purpose: the database refuses a case opened for it and records the attempt."))
    specs.append(("first_amendment", "A lawful protest is planned downtown. May you canvass the plates near it "
                  "to learn who attended?",
                  "No: monitoring activity protected by the First Amendment is prohibited",
                  ["Yes, if a supervisor is told afterwards", "Yes, because the plates are in public view",
                   "Yes, for up to 24 hours"],
                  "Collection in public view does not make monitoring protected activity lawful; searches near "
                  "sensitive places are flagged for the supervisor."))
    specs.append(("infractions", "May ALPR data be searched to find a car with an expired registration (an infraction)?",
                  "No: infractions and minor vehicle code violations are not a permitted use",
                  ["Yes, any Vehicle Code violation", "Yes, if the owner has unpaid parking tickets",
                   "Yes, during a situational awareness operation"],
                  "ALPR data is for the official purposes listed; enforcing infractions is not one of them."))
    purge = retention["purge_after"]
    logical = retention.get("logical_delete_after")
    retention_answer = (f"Logically deleted after {logical}, permanently purged after {purge}, unless held as evidence"
                        if logical else f"Purged after {purge}, unless held as evidence under a case")
    specs.append(("retention", "How long is ALPR data kept?", retention_answer,
                  ["Forever, in case it is needed later", "30 days, with no exceptions",
                   "Until the analyst who searched it deletes it"],
                  f"{policy_name}: {retention.get('quote', 'retention per policy')}. A legal hold keeps evidence "
                  "of a case past the purge."))
    specs.append(("verification", "A hot-list alert names a plate your camera read. What comes before any action?",
                  "Confirm the read against the plate image and verify the hit through CLETS/NCIC",
                  ["Stop the vehicle: the alert is enough", "Ask the registered owner by phone",
                   "Nothing, if the OCR confidence is above 90%"],
                  "OCR misreads look-alike characters and hot lists go stale; both checks come first."))
    agreement = " under an interagency agreement" if sharing["require_interagency_agreement"] else ""
    refused_partners = ["A private company asking for its commercial purposes"]
    if sharing["refuse_federal"]:
        refused_partners.append("A federal immigration agency")
    if sharing["refuse_out_of_state"]:
        refused_partners.append("An out-of-state police department, on a phone call")
    refused_partners.append("A journalist writing about traffic")
    specs.append(("sharing", "Who may receive ALPR data from this agency?",
                  f"An approved California law-enforcement or prosecutorial agency{agreement}, after a written "
                  "request is reviewed and approved", refused_partners,
                  "Sharing is by written request, reviewed and kept on file; commercial, federal and out-of-state "
                  "requests are refused under California law as this profile applies it."))
    specs.append(("need_to_know", "When may you search ALPR data?",
                  "Under a case you are assigned to, for an authorized purpose, with a specific justification",
                  ["Whenever you are curious about a vehicle", "Under any open case number in the agency",
                   "Only at night, when the system is quiet"],
                  "Need to know and right to know: the database checks case, assignment, purpose and justification "
                  "on every call."))
    specs.append(("training", "When must you take training again?",
                  f"Every {training['validity_days']} days, and a reorientation after {training['reorientation_after_days']} "
                  "days without use",
                  ["Never, once is enough", "Only when the software changes", "Only after a complaint"],
                  training.get("quote", "Training is required before access and refreshed regularly.")))
    specs.append(("audit", "What is recorded when you run a search?",
                  "Who searched, when, the case, the purpose, the justification and what was searched; supervisors audit it",
                  ["Nothing, unless the search finds a hit", "Only the number of searches per day",
                   "The search, but not who ran it"],
                  "Every call, granted or refused, is written to an append-only, hash-chained audit log."))
    questions = []
    for number, (topic, question, right, wrong, why) in enumerate(specs, start=1):
        choices, answer = _shuffled(rng, right, list(wrong))
        section = f"{TOPIC_SECTIONS[topic]} ({policy_name})"
        questions.append(Question(number, topic, question, choices, answer, why, section))
    return questions


def quiz_version(profile: Profile) -> str:
    """The quiz changes when the profile does: its version names the profile and its digest."""
    return f"{profile.key}-{profile.sha256[:8]}"
