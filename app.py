"""The web chat, started from the project folder: `python app.py [--host H] [--port P] [--index DIR]`.

A launcher only: the Gradio layout and events are in qa/web/app.py (`qa serve` starts the same thing).
"""

from qa.web.app import build_app, launch, main, serve

__all__ = ["build_app", "launch", "main", "serve"]

if __name__ == "__main__":
    main()
