from fastapi import APIRouter

router = APIRouter(prefix="/fhir/R4")
