"""The SVG writer of the figures: matplotlib's, with each text measured once per process.

matplotlib's SVG renderer measures every label afresh, by laying its glyphs out at a large
size, twice per label and draw; a gallery repeats the same labels (ticks, legends, axis
names) in every figure, and the measuring was a third of the time spent writing its SVGs. The
measure depends only on the text, its font properties and whether it is mathtext, so it is
kept by those. The files are otherwise matplotlib's own: `savefig(..., format="svg",
backend="module://sim.output.svg_backend")`.
"""

from __future__ import annotations

import codecs
from typing import Any

from matplotlib.backends.backend_mixed import MixedModeRenderer
from matplotlib.backends.backend_svg import FigureCanvasSVG, RendererSVG
from matplotlib.font_manager import FontProperties

#: measures kept at most (a gallery needs a few hundred)
LIMIT = 20_000
_MEASURED: dict[tuple, tuple[float, float, float]] = {}


def _font_key(prop: FontProperties) -> tuple:
    return (
        tuple(prop.get_family()),
        prop.get_style(),
        prop.get_variant(),
        prop.get_weight(),
        prop.get_stretch(),
        prop.get_size_in_points(),
        prop.get_file(),
        prop.get_math_fontfamily(),
    )


class _Renderer(RendererSVG):
    def get_text_width_height_descent(self, s: str, prop: FontProperties, ismath: Any):
        key = (s, str(ismath), _font_key(prop))
        found = _MEASURED.get(key)
        if found is None:
            if len(_MEASURED) >= LIMIT:
                _MEASURED.clear()
            found = _MEASURED[key] = super().get_text_width_height_descent(s, prop, ismath)
        return found


class FigureCanvas(FigureCanvasSVG):
    """matplotlib's SVG canvas drawing with `_Renderer`; writes to a binary file object."""

    def print_svg(self, filename, *, bbox_inches_restore=None, metadata=None, **_ignored):
        # dpi, colours and orientation are set on the figure by savefig; SVG reads them there
        handle = codecs.getwriter("utf-8")(filename)
        dpi = self.figure.dpi
        self.figure.dpi = 72
        width, height = self.figure.get_size_inches()
        renderer = MixedModeRenderer(
            self.figure,
            width,
            height,
            dpi,
            _Renderer(width * 72, height * 72, handle, image_dpi=dpi, metadata=metadata),
            bbox_inches_restore=bbox_inches_restore,
        )
        self.figure.draw(renderer)
        renderer.finalize()
