-- Find a delivery by its remote id (FIT-Connect callbacks name the submission).
CREATE INDEX delivery_remote ON delivery (route_id, remote_id);
