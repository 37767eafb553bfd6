COPY {table} (read_at, plate_raw, plate, plate_skeleton, state, location, camera_id, source, confidence,
              vehicle_make, vehicle_color) FROM STDIN WITH (FORMAT csv)
