"""Free beds and isolation rooms per shelter, as partners see them."""
