-- Identity: a user's role is stored, and checked on every request whose token claims more than
-- a customer's. Nobody becomes an admin by registering: the first admin is an operator's act
-- (`spincart-admin create`), as is every later grant or revocation (`user.role_changed`).
-- Deployments that listed admins in the old `admin_emails` variable grant them once with
-- `spincart-admin grant --email …`.

ALTER TABLE users.users
    ADD COLUMN role text NOT NULL DEFAULT 'customer',
    ADD CONSTRAINT users_role_known CHECK (role IN ('customer', 'admin'));

-- The role of a user, or NULL when there is no such user: one row whatever the id, which is
-- what the platform's per-request check asks for.
CREATE FUNCTION users.role_of(user_id uuid) RETURNS text
    LANGUAGE sql STABLE
    AS $$ SELECT role FROM users.users WHERE id = user_id $$;
