-- CAP as real feeds write it (sqlite): what an imported notice's alert said beyond what a
-- notice holds (its areas with polygons, circles and geocodes, its parameters, event codes
-- and resources, the alert's own scope, codes and note), kept as JSON text so that an
-- export writes them back. The alert with the notice's one <info>, as cap::prepare
-- writes it; NULL for a notice written in Pingan, and for notices imported before now.
ALTER TABLE notices ADD COLUMN cap_detail TEXT;
