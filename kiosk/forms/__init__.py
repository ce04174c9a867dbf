"""Intake-form engine: FHIR R4 Questionnaires in, QuestionnaireResponses out (no Kivy).

questionnaire.py (parse, lenient, every problem) - value_sets.py (contained ValueSets as options)
- enable_when.py - answers.py (FormAnswers, per repeating-group instance) - scoring.py (FHIRPath)
- rules.py + rules/ (bands, flags) - translations.py - runner.py (FormRunner, one question per
screen) - selection.py (which forms a patient gets) - instruments/ (bundled forms, policy.json)
- __main__.py (`python -m kiosk.forms check|score`).
"""
