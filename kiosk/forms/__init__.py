"""Intake-form engine: FHIR R4 Questionnaires in, QuestionnaireResponses out (no Kivy)."""
