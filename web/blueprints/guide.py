"""The public service guide (no login): institutions by governorate and kind, and their map."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, jsonify, render_template
from werkzeug.wrappers import Response

from web.labels import KIND_LABELS
from web.services import guide as service

bp = Blueprint("guide", __name__, url_prefix="/guide")


def _map_settings() -> dict[str, object]:
    """The tile server (a URL template and its attribution) from the config; unset: no tiles."""
    return {
        "tile_url": current_app.config.get("MAP_TILE_URL") or "",
        "attribution": current_app.config.get("MAP_TILE_ATTRIBUTION") or "",
        "max_zoom": int(current_app.config.get("MAP_MAX_ZOOM") or 18),
    }


@bp.context_processor
def _template_helpers() -> dict[str, object]:
    return {"kind_labels": KIND_LABELS}


@bp.get("")
def index() -> str:
    """Every governorate with institutions, linking to its page, and the map of all of them."""
    return render_template(
        "guide/index.html", summaries=service.summaries(), map_settings=_map_settings()
    )


@bp.get("/<governorate_code>")
def governorate(governorate_code: str) -> str:
    """One governorate's institutions by kind, with what volunteers can do there."""
    found = service.governorate_by_code(governorate_code)
    if found is None:
        abort(404)
    return render_template(
        "guide/governorate.html",
        governorate=found,
        sections=service.sections(found),
        summaries=service.summaries(),
        map_settings=_map_settings(),
    )


@bp.get("/map.json")
def markers_all() -> Response:
    """Markers of every active institution (public facts only)."""
    return _markers(None)


@bp.get("/<governorate_code>/map.json")
def markers(governorate_code: str) -> Response:
    """Markers of one governorate's active institutions."""
    found = service.governorate_by_code(governorate_code)
    if found is None:
        abort(404)
    return _markers(found)


def _markers(governorate: object) -> Response:
    response = jsonify({"institutions": service.markers(governorate)})  # type: ignore[arg-type]
    response.headers["Cache-Control"] = "public, max-age=300"
    response.vary.add("Accept-Language")
    response.vary.add("Cookie")
    return response
