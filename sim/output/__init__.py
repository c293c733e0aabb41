"""Output stage: figures, the HTML report and the commands that write them."""
