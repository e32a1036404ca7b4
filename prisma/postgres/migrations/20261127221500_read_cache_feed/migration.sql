-- Every change to a user, its roles or its sessions names the user on the channel authd_changes,
-- whoever makes it (the service, another instance, an operator at psql): each instance's read
-- cache forgets what it kept of that user (src/store/postgres-feed.ts). Like any NOTIFY, it is
-- delivered when, and only if, the transaction commits, once per distinct payload.
-- "u:<id>": the user or its roles changed, so did any listing of users; "s:<id>": its sessions.
CREATE FUNCTION authd_announce_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('authd_changes', TG_ARGV[0] || ':' || (to_jsonb(CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END) ->> TG_ARGV[1]));
  RETURN NULL;
END
$$;

CREATE TRIGGER "authd_user_changed" AFTER INSERT OR UPDATE OR DELETE ON "User"
  FOR EACH ROW EXECUTE FUNCTION authd_announce_change('u', 'id');

CREATE TRIGGER "authd_role_changed" AFTER INSERT OR UPDATE OR DELETE ON "UserRole"
  FOR EACH ROW EXECUTE FUNCTION authd_announce_change('u', 'userId');

CREATE TRIGGER "authd_session_changed" AFTER INSERT OR UPDATE OR DELETE ON "Session"
  FOR EACH ROW EXECUTE FUNCTION authd_announce_change('s', 'userId');
