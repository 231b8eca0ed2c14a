"""msp's command line: thin click commands over ``msp.engine``.

``main`` holds the global options and the error boundary; each module of
``cli/commands`` parses its options, calls the engine and renders.
"""
