"""One module per page; each exposes one function that draws the page."""
