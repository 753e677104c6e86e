-- Districts (issue 16): the districts a notice concerns and those a subscriber follows,
-- as configured keys joined by ',' (`chengdong,chengxi`); empty: the whole city (a
-- notice) or every district (a subscriber). Keys are ASCII slugs without commas, checked
-- by the configuration. A shared location is never stored: only the district it fell in.
ALTER TABLE notices ADD COLUMN districts TEXT NOT NULL DEFAULT '';
ALTER TABLE subscribers ADD COLUMN districts TEXT NOT NULL DEFAULT '';
