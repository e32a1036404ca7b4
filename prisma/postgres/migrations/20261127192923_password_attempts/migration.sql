-- CreateTable
CREATE TABLE "PasswordAttempt" (
    "id" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "PasswordAttempt_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "KnownAddress" (
    "accountId" TEXT NOT NULL,
    "ip" TEXT NOT NULL,
    "at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "KnownAddress_pkey" PRIMARY KEY ("accountId","ip")
);

-- CreateIndex
CREATE INDEX "PasswordAttempt_key_at_idx" ON "PasswordAttempt"("key", "at");

-- CreateIndex
CREATE INDEX "KnownAddress_at_idx" ON "KnownAddress"("at");

-- AddForeignKey
ALTER TABLE "KnownAddress" ADD CONSTRAINT "KnownAddress_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;
