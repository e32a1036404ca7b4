-- CreateTable
CREATE TABLE "PasswordAttempt" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "key" TEXT NOT NULL,
    "at" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "KnownAddress" (
    "accountId" TEXT NOT NULL,
    "ip" TEXT NOT NULL,
    "at" DATETIME NOT NULL,

    PRIMARY KEY ("accountId", "ip"),
    CONSTRAINT "KnownAddress_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "User" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateIndex
CREATE INDEX "PasswordAttempt_key_at_idx" ON "PasswordAttempt"("key", "at");

-- CreateIndex
CREATE INDEX "KnownAddress_at_idx" ON "KnownAddress"("at");
