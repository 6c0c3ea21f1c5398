"""Pure, vectorised equations of the paper: computation, channel, HIQM, objective."""
