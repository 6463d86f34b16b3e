"""The playground: the game watched and played in a browser, on the library's own training loop.

`saddlepoint playground` serves a local page (docs/playground.md). Each browser tab gets a
session whose thread plays Algorithm 1 through `train.loop` on a `train.state.setup` state:

    settings.py     what the page sets, checked, made into the library's Config
    shapes.py       2-D shapes beside the toy densities
    upload.py       a user's CSV of points, read and checked
    points.py       the data in one form: toy density, shape, drawing or upload
    game.py         the TrainState stepped by loop.iteration / update_discriminator /
                    update_generator; settings changed while it runs; health records
    health.py       the loop's health warnings in the page's words
    views.py        D's map, G's gradient arrows, manifold and z -> x mapping
    divergences.py  what each objective minimises at the optimal D, from grid histograms
    frames.py       one update of the page as JSON: the data once, then frames
    session.py      a tab's game in its own thread at a bounded rate; the live sessions
    panels.py       the a*b game and the lambda-divergence of the theory lab, interactively
    server.py       the HTTP server (standard library) with server-sent events
    static/         the page: plain HTML, JavaScript and canvas, nothing fetched from elsewhere
"""
