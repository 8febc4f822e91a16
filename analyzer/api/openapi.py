"""The OpenAPI 3.1 description of /api/v1/, built from the same settings the API enforces."""

from collections.abc import Mapping

from django.conf import settings

from analyzer.api.problems import PROBLEM_CONTENT_TYPE
from analyzer.models import Verdict

# Any character but the controls the form refuses (tabs and line breaks are fine), with at
# least one that is not white space. (Lone surrogates are refused too, but a pattern cannot
# name them: they are not characters.)
ALLOWED = r"[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]"
TEXT_PATTERN = rf"^{ALLOWED}*[^\s\u0000-\u001F\u007F-\u009F]{ALLOWED}*$"


def problem_response(
    description: str, *, headers: Mapping[str, object] | None = None
) -> dict[str, object]:
    response: dict[str, object] = {
        "description": description,
        "content": {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    if headers:
        response["headers"] = headers
    return response


RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "string", "pattern": r"^\d+$"},
    }
}


def openapi_document() -> dict[str, object]:
    """Return the OpenAPI 3.1 document of the API."""
    score = {"type": "number", "minimum": 0, "maximum": 1}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "toxmon API",
            "version": "1.0.0",
            "description": (
                "Score texts for toxicity with the model the server runs. Authenticate with "
                "`Authorization: Bearer <key>`; errors are problem details (RFC 9457)."
            ),
        },
        "paths": {
            "/api/v1/analyze": {
                "post": {
                    "operationId": "analyze",
                    "summary": "Score 1 to 32 texts, optionally explain them word by word.",
                    "security": [{"bearerAuth": []}],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/AnalyzeRequest"},
                                "example": {
                                    "texts": ["You are a complete idiot", "Have a nice day"],
                                    "store": False,
                                    "explain": True,
                                },
                            }
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "The scores of each text, in the order sent.",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/AnalyzeResponse"}
                                }
                            },
                        },
                        "400": problem_response("The body is not JSON."),
                        "401": problem_response(
                            "No token, an unknown one, or a revoked one.",
                            headers={
                                "WWW-Authenticate": {
                                    "description": "The scheme to use: Bearer.",
                                    "schema": {"type": "string"},
                                }
                            },
                        ),
                        "405": problem_response("Only POST is allowed."),
                        "413": problem_response(
                            f"The body is over {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes."
                        ),
                        "415": problem_response("The body is not application/json."),
                        "422": problem_response(
                            "Fields are missing or invalid; `errors` names each one."
                        ),
                        "429": problem_response(
                            "The token is over its rate limit.", headers=RETRY_AFTER
                        ),
                        "503": problem_response(
                            "The model is unavailable; nothing was stored.", headers=RETRY_AFTER
                        ),
                    },
                }
            },
            "/api/v1/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "summary": "This document.",
                    "security": [],
                    "responses": {
                        "200": {
                            "description": "The OpenAPI 3.1 document.",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        }
                    },
                }
            },
        },
        "components": {
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API token a staff user created in admin.",
                }
            },
            "schemas": {
                "AnalyzeRequest": {
                    "type": "object",
                    "required": ["texts"],
                    "additionalProperties": False,
                    "properties": {
                        "texts": {
                            "type": "array",
                            "minItems": 1,
                            "maxItems": settings.TOXMON_API_MAX_TEXTS,
                            "items": {
                                "type": "string",
                                "minLength": 1,
                                "maxLength": settings.TOXMON_MAX_CHARS,
                                "pattern": TEXT_PATTERN,
                                "description": "Not blank; no control characters but tabs "
                                "and line breaks.",
                            },
                        },
                        "store": {
                            "type": "boolean",
                            "default": True,
                            "description": "false: analyze without keeping the texts.",
                        },
                        "explain": {
                            "type": "boolean",
                            "default": False,
                            "description": "true: add the spans of words that raise the score.",
                        },
                    },
                },
                "AnalyzeResponse": {
                    "type": "object",
                    "required": [
                        "engine",
                        "model",
                        "fallback",
                        "threshold",
                        "latency_ms",
                        "stored",
                        "results",
                    ],
                    "properties": {
                        "engine": {"type": "string"},
                        "model": {"type": "string"},
                        "fallback": {
                            "type": "boolean",
                            "description": "true when the offline fallback engine answered.",
                        },
                        "threshold": score,
                        "latency_ms": {"type": "number", "minimum": 0},
                        "stored": {"type": "boolean"},
                        "results": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/Result"},
                        },
                    },
                },
                "Result": {
                    "type": "object",
                    "required": ["id", "scores", "verdict", "top_label", "max_score", "windows"],
                    "properties": {
                        "id": {
                            "type": ["integer", "null"],
                            "description": "The stored analysis; null when store is false.",
                        },
                        "scores": {
                            "type": "object",
                            "additionalProperties": score,
                            "description": "Every label of the engine with its score.",
                        },
                        "verdict": {"type": "string", "enum": list(Verdict.values)},
                        "top_label": {"type": "string"},
                        "max_score": score,
                        "windows": {"type": "integer", "minimum": 1},
                        "language": {
                            "type": "object",
                            "required": ["detected", "covered"],
                            "properties": {
                                "detected": {
                                    "type": "string",
                                    "description": "ISO 639-1 code of the text's language; "
                                    '"und" when it cannot be told.',
                                },
                                "covered": {
                                    "type": ["boolean", "null"],
                                    "description": "Whether the model was trained on that "
                                    "language (true when undetermined); null for a model "
                                    "whose languages toxmon does not know.",
                                },
                            },
                        },
                        "spans": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/Span"},
                            "description": "Only with explain: each word and its contribution.",
                        },
                    },
                },
                "Span": {
                    "type": "object",
                    "required": ["start", "end", "text", "contribution"],
                    "properties": {
                        "start": {"type": "integer", "minimum": 0},
                        "end": {"type": "integer", "minimum": 0},
                        "text": {
                            "type": "string",
                            "description": "The original text from start to end "
                            "(offsets in Unicode code points).",
                        },
                        "contribution": {
                            "type": "number",
                            "description": "How much the top label's score falls without "
                            "this word (negative: it rises).",
                        },
                    },
                },
                "Problem": {
                    "type": "object",
                    "required": ["type", "title", "status", "detail"],
                    "properties": {
                        "type": {"type": "string", "format": "uri-reference"},
                        "title": {"type": "string"},
                        "status": {"type": "integer"},
                        "detail": {"type": "string"},
                        "errors": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["field", "detail"],
                                "properties": {
                                    "field": {"type": "string"},
                                    "detail": {"type": "string"},
                                },
                            },
                        },
                    },
                },
            },
        },
    }
