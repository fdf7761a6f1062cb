"""Maps: interactive folium maps, static exports and the atlas."""
